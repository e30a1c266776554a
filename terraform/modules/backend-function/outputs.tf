output "function_name" {
  description = "Name of the backend function, for logs and alarms."
  value       = aws_lambda_function.this.function_name
}

output "alias_arn" {
  description = "ARN of the alias (function ARN qualified with the alias): the proxy's BACKEND_FUNCTION, and the only resource of its lambda:InvokeFunction."
  value       = aws_lambda_alias.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN of the alias, for the HTTP API's integration."
  value       = aws_lambda_alias.this.invoke_arn
}

output "alias_name" {
  description = "The alias the HTTP API and the proxy invoke, for the HTTP API's lambda:InvokeFunction permission."
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
  description = "The function's log group (JSON logs)."
  value       = aws_cloudwatch_log_group.this.name
}

output "environment" {
  description = "The function's environment variables (names of secrets, never their values), for review and tests."
  value       = tomap(local.environment)
}

output "policy_json" {
  description = "The function's inline policy document, for review."
  value       = local.policy
}
