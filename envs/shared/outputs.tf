output "websocket_url" {
  description = "What clients (and `make smoke ENV=...`) connect to; append ?booking_id=N."
  value       = module.booking_chat.websocket_url
}

output "websocket_custom_domain_url" {
  description = "What clients connect to on the WebSocket API's custom domain (wss://{domain}, append ?booking_id=N); null without one."
  value       = module.booking_chat.websocket_custom_domain_url
}

output "websocket_domain_dns" {
  description = "The DNS record to create for the WebSocket API's custom domain: name -> target_domain_name (CNAME, or Route 53 alias with hosted_zone_id); null without one."
  value       = module.booking_chat.websocket_domain_dns
}

output "http_custom_domain_url" {
  description = "Base URL of the HTTP API on its custom domain (https://{domain}); null without one."
  value       = module.booking_chat.http_custom_domain_url
}

output "http_domain_dns" {
  description = "The DNS record to create for the HTTP API's custom domain: name -> target_domain_name (CNAME, or Route 53 alias with hosted_zone_id); null without one."
  value       = module.booking_chat.http_domain_dns
}

output "http_api_url" {
  description = "Base URL of the HTTP API for browsers and the marketplace: {url}/api/... and {url}/healthz; null with a backend elsewhere."
  value       = module.booking_chat.http_api_url
}

output "management_endpoint" {
  description = "Management API endpoint: the backend function's MANAGEMENT_ENDPOINT (set by Terraform), and what a backend elsewhere needs for status pushes."
  value       = module.booking_chat.management_endpoint
}

output "connections_table_name" {
  description = "Connections table: the backend function's CONNECTIONS_TABLE (set by Terraform), and what a backend elsewhere needs for status pushes."
  value       = module.booking_chat.connections_table_name
}

output "chat_table_name" {
  description = "The backend function's chat table (CHAT_TABLE); null with PostgreSQL or a backend elsewhere."
  value       = module.booking_chat.chat_table_name
}

output "event_bus_name" {
  description = "The chat events' EventBridge bus, which the app's rules name (event_bus_name); null with chat_events off."
  value       = module.booking_chat.event_bus_name
}

output "event_bus_arn" {
  description = "The chat events' bus ARN (a backend elsewhere needs events:PutEvents on it); null with chat_events off."
  value       = module.booking_chat.event_bus_arn
}

output "event_archive_arn" {
  description = "The chat events' archive, for aws events start-replay --event-source-arn; null without chat_events_archive_retention_days."
  value       = module.booking_chat.event_archive_arn
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

output "backend_function_name" {
  description = "The backend function (logs: /aws/lambda/<name>); null with a backend elsewhere."
  value       = module.booking_chat.backend_function_name
}

output "backend_function_alias" {
  description = "The alias the proxy and the HTTP API invoke; roll back with aws lambda update-alias --function-name <backend_function_name> --name <backend_function_alias> --function-version <N>."
  value       = module.booking_chat.backend_function_alias
}

output "backend_function_version" {
  description = "The backend version this apply published and the alias points at."
  value       = module.booking_chat.backend_function_version
}

output "notifications_queue_url" {
  description = "The notifications queue (aws sqs get-queue-attributes --queue-url ...); null without notifications."
  value       = module.booking_chat.notifications_queue_url
}

output "notifications_queue_arn" {
  description = "The notifications queue's ARN, where a redrive moves dead letters back to (--destination-arn); null without notifications."
  value       = module.booking_chat.notifications_queue_arn
}

output "notifications_dead_letter_queue_arn" {
  description = "The notifications dead-letter queue's ARN: aws sqs start-message-move-task --source-arn <it> redrives what failed; null without notifications."
  value       = module.booking_chat.notifications_dead_letter_queue_arn
}

output "notifier_function_name" {
  description = "The notifier function (logs: /aws/lambda/<name>); null without notifications."
  value       = module.booking_chat.notifier_function_name
}

output "attachments_bucket_name" {
  description = "The attachments' bucket (aws s3api ... --bucket <it>); null without attachments."
  value       = module.booking_chat.attachments_bucket_name
}

output "media_queue_url" {
  description = "The queue of the bucket's upload events (aws sqs get-queue-attributes --queue-url ...); null without attachments."
  value       = module.booking_chat.media_queue_url
}

output "media_queue_arn" {
  description = "The media queue's ARN, where a redrive moves dead letters back to (--destination-arn); null without attachments."
  value       = module.booking_chat.media_queue_arn
}

output "media_dead_letter_queue_arn" {
  description = "The media dead-letter queue's ARN: aws sqs start-message-move-task --source-arn <it> redrives what failed; null without attachments."
  value       = module.booking_chat.media_dead_letter_queue_arn
}

output "media_function_name" {
  description = "The media processor function (logs: /aws/lambda/<name>); null without attachments."
  value       = module.booking_chat.media_function_name
}

output "retention_function_name" {
  description = "The retention job's function (logs: /aws/lambda/<name>; a pass by hand: aws lambda invoke --function-name <name>:live --invocation-type Event); null without message_retention_days."
  value       = module.booking_chat.retention_function_name
}

output "retention_dead_letter_queue_url" {
  description = "What the scheduler could not deliver to the retention job (aws sqs receive-message --queue-url <it>); null without message_retention_days."
  value       = module.booking_chat.retention_dead_letter_queue_url
}
