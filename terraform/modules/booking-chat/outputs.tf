output "websocket_url" {
  description = "What clients connect to (append ?booking_id=N)."
  value       = module.websocket_api.websocket_url
}

output "management_endpoint" {
  description = "Management API endpoint, for the backend's MANAGEMENT_ENDPOINT (status pushes)."
  value       = module.websocket_api.management_endpoint
}

output "connections_table_name" {
  description = "The connections table, for the backend's CONNECTIONS_TABLE (status pushes)."
  value       = module.connections_table.name
}

output "function_name" {
  description = "The proxy function, for logs and `aws lambda` commands."
  value       = module.proxy_function.function_name
}

output "api_id" {
  description = "The WebSocket API's id."
  value       = module.websocket_api.api_id
}
