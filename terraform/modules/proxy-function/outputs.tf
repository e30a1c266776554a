output "function_name" {
  description = "Name of the proxy function, for logs and alarms."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the proxy function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN, for the API Gateway integration."
  value       = aws_lambda_function.this.invoke_arn
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
