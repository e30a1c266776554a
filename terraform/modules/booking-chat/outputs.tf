output "websocket_url" {
  description = "What clients connect to (append ?booking_id=N)."
  value       = module.websocket_api.websocket_url
}

output "websocket_custom_domain_url" {
  description = "What clients connect to on the custom domain, wss://{websocket_domain_name} (append ?booking_id=N); null without one."
  value       = one([for domain in module.websocket_domain : "wss://${domain.domain_name}"])
}

output "websocket_domain_dns" {
  description = "The DNS record the WebSocket API's custom domain needs: name, target (a CNAME, or a Route 53 alias with hosted_zone_id); null without one."
  value = one([for domain in module.websocket_domain : {
    name               = domain.domain_name
    target_domain_name = domain.target_domain_name
    hosted_zone_id     = domain.hosted_zone_id
  }])
}

output "http_custom_domain_url" {
  description = "Base URL of the HTTP API on its custom domain, https://{http_domain_name}; null without one."
  value       = one([for domain in module.http_domain : "https://${domain.domain_name}"])
}

output "http_domain_dns" {
  description = "The DNS record the HTTP API's custom domain needs: name, target (a CNAME, or a Route 53 alias with hosted_zone_id); null without one."
  value = one([for domain in module.http_domain : {
    name               = domain.domain_name
    target_domain_name = domain.target_domain_name
    hosted_zone_id     = domain.hosted_zone_id
  }])
}

output "http_api_url" {
  description = "Base URL of the HTTP API (https://{api_id}.execute-api.{region}.amazonaws.com): /api/... for browsers and the marketplace, /healthz; null with a backend elsewhere."
  value       = one(module.http_api[*].url)
}

output "http_api_id" {
  description = "The HTTP API's id; null with a backend elsewhere."
  value       = one(module.http_api[*].api_id)
}

output "management_endpoint" {
  description = "Management API endpoint: the backend function's MANAGEMENT_ENDPOINT, and a backend elsewhere's (status pushes)."
  value       = module.websocket_api.management_endpoint
}

output "connections_table_name" {
  description = "The connections table: the backend function's CONNECTIONS_TABLE, and a backend elsewhere's (status pushes)."
  value       = module.connections_table.name
}

output "chat_table_name" {
  description = "The chat table (the backend function's CHAT_TABLE); null with PostgreSQL or a backend elsewhere."
  value       = one(module.chat_table[*].name)
}

output "event_bus_name" {
  description = "The chat events' EventBridge bus, which the app's rules name (event_bus_name) and the backend function publishes to (EVENT_BUS_NAME); a backend elsewhere's EVENT_BUS_NAME. null with chat_events off."
  value       = one(aws_cloudwatch_event_bus.chat_events[*].name)
}

output "event_bus_arn" {
  description = "The chat events' bus ARN: what a backend elsewhere needs events:PutEvents on, and the destination of a replay. null with chat_events off."
  value       = one(aws_cloudwatch_event_bus.chat_events[*].arn)
}

output "event_archive_arn" {
  description = "The archive of the chat events (aws events start-replay --event-source-arn); null without chat_events_archive_retention_days."
  value       = one(aws_cloudwatch_event_archive.chat_events[*].arn)
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

output "backend_function_name" {
  description = "The backend function, for logs and `aws lambda` commands; null with a backend elsewhere."
  value       = one(module.backend_function[*].function_name)
}

output "backend_function_alias" {
  description = "The alias the proxy (and the HTTP API) invoke; null with a backend elsewhere."
  value       = one(module.backend_function[*].alias_name)
}

output "backend_function_version" {
  description = "The backend version this apply published and the alias points at; null with a backend elsewhere."
  value       = one(module.backend_function[*].version)
}

output "backend_policy_json" {
  description = "The backend function's IAM policy, for review; null with a backend elsewhere."
  value       = one(module.backend_function[*].policy_json)
}

output "backend_environment" {
  description = "The backend function's environment variables (secrets by name only), for review; null with a backend elsewhere."
  value       = one(module.backend_function[*].environment)
}

output "proxy_environment" {
  description = "The proxy function's environment variables (secrets by name only), for review."
  value       = module.proxy_function.environment
}

output "notifications_queue_url" {
  description = "The notifications queue's URL (the notifier's NOTIFY_QUEUE_URL), for `aws sqs` commands; null without notifications."
  value       = one(aws_sqs_queue.notifications[*].url)
}

output "notifications_queue_arn" {
  description = "The notifications queue's ARN, the source of the notifier's event source mapping and the redrive's destination; null without notifications."
  value       = one(aws_sqs_queue.notifications[*].arn)
}

output "notifications_dead_letter_queue_arn" {
  description = "The notifications dead-letter queue's ARN (aws sqs start-message-move-task --source-arn, to redrive what failed); null without notifications."
  value       = one(aws_sqs_queue.notifications_dead_letter[*].arn)
}

output "notifier_function_name" {
  description = "The notifier function, for logs and `aws lambda` commands; null without notifications."
  value       = one(module.notifier_function[*].function_name)
}

output "notifier_policy_json" {
  description = "The notifier function's IAM policy, for review; null without notifications."
  value       = one(module.notifier_function[*].policy_json)
}

output "notifier_environment" {
  description = "The notifier function's environment variables (secrets by name only), for review; null without notifications."
  value       = one(module.notifier_function[*].environment)
}

output "attachments_bucket_name" {
  description = "The attachments' bucket (FILE_STORE of the backend and the media processor is s3://<this>), for `aws s3api` commands; null without attachments."
  value       = one(aws_s3_bucket.attachments[*].bucket)
}

output "attachments_bucket_arn" {
  description = "The attachments' bucket ARN, for review of the policies that name it; null without attachments."
  value       = one(aws_s3_bucket.attachments[*].arn)
}

output "attachments_allowed_origins" {
  description = "The browser origins the bucket's CORS rules allow to POST uploads and GET downloads (attachments.allowed_origins, or cors_allowed_origins); [] for none, when browsers cannot upload; null without attachments."
  value       = local.attachments ? local.attachments_origins : null
}

output "media_queue_url" {
  description = "The queue of the bucket's upload events, which the media processor consumes, for `aws sqs` commands; null without attachments."
  value       = one(aws_sqs_queue.media[*].url)
}

output "media_queue_arn" {
  description = "The media queue's ARN, the source of the processor's event source mapping and the redrive's destination; null without attachments."
  value       = one(aws_sqs_queue.media[*].arn)
}

output "media_dead_letter_queue_arn" {
  description = "The media dead-letter queue's ARN (aws sqs start-message-move-task --source-arn, to redrive what failed); null without attachments."
  value       = one(aws_sqs_queue.media_dead_letter[*].arn)
}

output "media_function_name" {
  description = "The media processor function, for logs and `aws lambda` commands; null without attachments."
  value       = one(module.media_function[*].function_name)
}

output "media_policy_json" {
  description = "The media processor's IAM policy, for review; null without attachments."
  value       = one(module.media_function[*].policy_json)
}

output "media_environment" {
  description = "The media processor's environment variables (secrets by name only), for review; null without attachments."
  value       = one(module.media_function[*].environment)
}

output "retention_function_name" {
  description = "The retention job's function, for logs and `aws lambda invoke` (a pass by hand); null without message_retention_days."
  value       = one(module.retention_function[*].function_name)
}

output "retention_policy_json" {
  description = "The retention job's IAM policy, for review; null without message_retention_days."
  value       = one(module.retention_function[*].policy_json)
}

output "retention_environment" {
  description = "The retention job's environment variables (secrets by name only), for review; null without message_retention_days."
  value       = one(module.retention_function[*].environment)
}

output "retention_schedule_arn" {
  description = "The EventBridge Scheduler schedule that invokes the retention job every hour (aws scheduler get-schedule --group-name <environment's group> --name <its name>); null without message_retention_days."
  value       = one(aws_scheduler_schedule.retention[*].arn)
}

output "retention_scheduler_policy_json" {
  description = "The schedule's execution role's IAM policy (invoke the job, send to its dead-letter queue), for review; null without message_retention_days."
  value       = local.retention_scheduler_policy
}

output "retention_dead_letter_queue_url" {
  description = "The queue of what the scheduler could not deliver to the retention job (aws sqs receive-message --queue-url <it>); null without message_retention_days."
  value       = one(aws_sqs_queue.retention_dead_letter[*].url)
}

output "retention_dead_letter_queue_arn" {
  description = "The retention job's dead-letter queue's ARN, for review of the policies that name it; null without message_retention_days."
  value       = one(aws_sqs_queue.retention_dead_letter[*].arn)
}
