output "cloudwatch_role_arn" {
  description = "The role in API Gateway's account settings for this region (aws apigateway get-account shows it as cloudwatchRoleArn)."
  value       = aws_api_gateway_account.this.cloudwatch_role_arn
}

output "role_name" {
  description = "Name of the role, for IAM reviews."
  value       = aws_iam_role.this.name
}
