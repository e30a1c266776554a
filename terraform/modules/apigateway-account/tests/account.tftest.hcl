mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

run "api_gateway_writes_logs_through_this_role" {
  command = plan

  assert {
    condition     = aws_api_gateway_account.this.cloudwatch_role_arn == aws_iam_role.this.arn
    error_message = "the account setting names the role"
  }
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
    error_message = "only API Gateway may assume the role"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.this.policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    error_message = "the role has AWS's managed policy for API Gateway logging, and nothing else"
  }
  assert {
    condition     = aws_api_gateway_account.this.reset_on_delete
    error_message = "destroying the root clears the setting instead of leaving it on a deleted role"
  }
}

run "a_malformed_role_name_is_refused" {
  command = plan
  variables {
    role_name = "api gateway logs"
  }
  expect_failures = [var.role_name]
}
