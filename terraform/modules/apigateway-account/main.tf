# API Gateway's account-level setting for one region: the IAM role API Gateway assumes to write the
# execution and access logs of REST and WebSocket APIs to CloudWatch Logs. A fresh account has none, and a
# stage with either kind of logging then fails to deploy ("CloudWatch Logs role ARN must be set in account
# settings to enable logging"). There is one setting per account and region, shared by every API there, so
# it is applied once, from its own root (envs/account/<region>), never from an environment.
data "aws_partition" "current" {}

resource "aws_iam_role" "this" {
  name        = var.role_name
  description = "API Gateway writes execution and access logs to CloudWatch Logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })
  tags = var.tags
}

# AWS's managed policy for exactly this role: create and write log groups and streams.
resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.this.arn
  # Destroying this root clears the setting rather than leaving it pointing at a deleted role, so that the
  # preflight of `make apply` reports it missing again. (Deprecated in provider 5.x because 6.x always does
  # this on delete: drop the line when moving to 6.)
  reset_on_delete = true

  depends_on = [aws_iam_role_policy_attachment.this]
}
