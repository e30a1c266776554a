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

output "function_alias" {
  description = "The alias API Gateway invokes (point it at an earlier version to roll back)."
  value       = module.proxy_function.alias_name
}

output "function_version" {
  description = "The version this apply published and the alias points at."
  value       = module.proxy_function.version
}

output "function_architecture" {
  description = "Instruction set the function runs on (must match the package)."
  value       = module.proxy_function.architecture
}

output "proxy_policy_json" {
  description = "The proxy function's IAM policy, for review."
  value       = module.proxy_function.policy_json
}

output "api_id" {
  description = "The WebSocket API's id."
  value       = module.websocket_api.api_id
}
