output "websocket_url" {
  description = "What clients (and `make smoke ENV=...`) connect to; append ?booking_id=N."
  value       = module.booking_chat.websocket_url
}

output "management_endpoint" {
  description = "Management API endpoint: the backend's MANAGEMENT_ENDPOINT for status pushes."
  value       = module.booking_chat.management_endpoint
}

output "connections_table_name" {
  description = "Connections table: the backend's CONNECTIONS_TABLE for status pushes."
  value       = module.booking_chat.connections_table_name
}

output "function_name" {
  description = "The proxy function (logs: /aws/lambda/<name>)."
  value       = module.booking_chat.function_name
}

output "function_alias" {
  description = "The alias API Gateway invokes; roll back with aws lambda update-alias --function-name <function_name> --name <function_alias> --function-version <N>."
  value       = module.booking_chat.function_alias
}

output "function_version" {
  description = "The version this apply published and the alias points at."
  value       = module.booking_chat.function_version
}

output "function_architecture" {
  description = "Instruction set the function runs on (the package's)."
  value       = module.booking_chat.function_architecture
}
