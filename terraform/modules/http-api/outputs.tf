output "api_id" {
  description = "Id of the HTTP API (for a custom domain's API mapping)."
  value       = aws_apigatewayv2_api.this.id
}

output "execution_arn" {
  description = "Execution ARN of the HTTP API."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "The one stage ($default), for a custom domain's API mapping."
  value       = aws_apigatewayv2_stage.this.name
}

output "url" {
  description = "Base URL of the API: https://{api_id}.execute-api.{region}.amazonaws.com (the $default stage has no path), e.g. {url}/api/chat/bookings/1/messages."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "access_log_group_name" {
  description = "The stage's JSON access log group; null when access logging is off."
  value       = one(aws_cloudwatch_log_group.access[*].name)
}
