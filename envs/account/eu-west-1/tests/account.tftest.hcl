# The account root with a mocked AWS provider: the one-time API Gateway logging setting of its region.
mock_provider "aws" {
  source          = "../../../terraform/testing/aws"
  override_during = plan
}

run "the_region_gets_api_gateways_logging_role" {
  command = plan

  assert {
    condition     = module.apigateway_account.role_name == "booking-chat-apigateway-logs-eu-west-1"
    error_message = "the role's name carries the region, since IAM names are global"
  }
  assert {
    condition     = output.cloudwatch_role_arn == "arn:aws:iam::123456789012:role/mock"
    error_message = "the output is the role in the account settings"
  }
}
