output "function_name" {
  description = "Name of the function, for logs and `aws lambda` commands."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function (unqualified)."
  value       = aws_lambda_function.this.arn
}

output "alias_arn" {
  description = "ARN of the alias (the function's ARN qualified with the alias): what another function may invoke, and nothing else of this one."
  value       = aws_lambda_alias.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN of the alias, for API Gateway integrations and authorizers (they invoke the published version the alias points at)."
  value       = aws_lambda_alias.this.invoke_arn
}

output "source_code_hash" {
  description = "The hash of the package the function runs (base64 SHA-256 of the zip), for review and tests: two functions of one package have the same."
  value       = aws_lambda_function.this.source_code_hash
}

output "alias_name" {
  description = "The alias callers invoke, for the qualifier of their lambda:InvokeFunction permissions."
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
  description = "The function's log group (its JSON logs and embedded-metric-format lines)."
  value       = aws_cloudwatch_log_group.this.name
}

output "environment" {
  description = "The function's environment variables (secrets by name, never by value), for review and tests."
  value       = tomap(local.environment)
}

output "policy_json" {
  description = "The function's inline policy document, for review and tests."
  value       = local.policy
}

output "memory_size" {
  description = "Memory of the function in MB, as applied, for review and tests."
  value       = aws_lambda_function.this.memory_size
}

output "timeout_seconds" {
  description = "Timeout of the function in seconds, as applied, for review and tests (an SQS queue's visibility timeout follows it)."
  value       = aws_lambda_function.this.timeout
}

output "reserved_concurrency" {
  description = "Reserved concurrent executions, null when unreserved, for review and tests."
  value       = var.reserved_concurrency
}

output "logging_config" {
  description = "How Lambda writes the function's logs: the format and, in JSON, the levels of Lambda's own lines and of the function's (for review and tests)."
  value       = one(aws_lambda_function.this.logging_config)
}
