output "function_name" {
  description = "Name of the proxy function, for logs and alarms."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the proxy function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN of the alias, for the API Gateway integration and the $connect authorizer (both invoke the published version the alias points at)."
  value       = aws_lambda_alias.this.invoke_arn
}

output "alias_name" {
  description = "The alias API Gateway invokes, for the lambda:InvokeFunction permissions of the integration and the authorizer."
  value       = aws_lambda_alias.this.name
}

output "version" {
  description = "The version published by this apply, which the alias points at (roll back to an earlier one with aws lambda update-alias)."
  value       = aws_lambda_function.this.version
}

output "architecture" {
  description = "Instruction set the function runs on (must match the package)."
  value       = one(aws_lambda_function.this.architectures)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's log group (JSON logs and fan-out metrics)."
  value       = aws_cloudwatch_log_group.this.name
}

output "policy_json" {
  description = "The function's inline policy document, for review."
  value       = local.policy
}

output "environment" {
  description = "The function's environment variables (the secret by name, never its value), for review and tests."
  value       = aws_lambda_function.this.environment[0].variables
}
