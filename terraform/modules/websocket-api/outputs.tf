output "api_id" {
  description = "Id of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "execution_arn" {
  description = "Execution ARN, for scoping execute-api:ManageConnections in the function's policy."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "The stage clients connect to."
  value       = aws_apigatewayv2_stage.this.name
}

output "websocket_url" {
  description = "What clients connect to (append ?booking_id=N): wss://{api_id}.execute-api.{region}.amazonaws.com/{stage}."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}/${aws_apigatewayv2_stage.this.name}"
}

# Built from the API and the stage's name, not from the stage resource: the backend function takes it, the
# proxy function invokes the backend, and the stage waits for the proxy's permissions, so a reference to the
# stage here would be a cycle. Clients reach it only once the stage exists anyway.
output "management_endpoint" {
  description = "The Management API endpoint for PostToConnection, https://{api_id}.execute-api.{region}.amazonaws.com/{stage} (never built from a custom domain)."
  value       = "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.amazonaws.com/${var.stage_name}"
}

output "access_log_group_name" {
  description = "The stage's JSON access log group; null when access logging is off."
  value       = one(aws_cloudwatch_log_group.access[*].name)
}

output "execution_log_group_name" {
  description = "The stage's execution log group (API Gateway's own name for it)."
  value       = aws_cloudwatch_log_group.execution.name
}
