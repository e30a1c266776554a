# The root of every environment: envs/dev, envs/staging and envs/prod link this file and the others of
# envs/shared, and differ only in their values (terraform.tfvars) and where their state is (backend.tf).
module "booking_chat" {
  source = "../../terraform/modules/booking-chat"

  environment                            = var.environment
  backend_url                            = var.backend_url
  chat_store                             = var.chat_store
  proxy_secret_ssm_parameter_name        = var.proxy_secret_ssm_parameter_name
  proxy_secret_secrets_manager_arn       = var.proxy_secret_secrets_manager_arn
  jwt_secret_ssm_parameter_name          = var.jwt_secret_ssm_parameter_name
  jwt_secret_secrets_manager_arn         = var.jwt_secret_secrets_manager_arn
  service_token_ssm_parameter_name       = var.service_token_ssm_parameter_name
  service_token_secrets_manager_arn      = var.service_token_secrets_manager_arn
  database_url_ssm_parameter_name        = var.database_url_ssm_parameter_name
  database_url_secrets_manager_arn       = var.database_url_secrets_manager_arn
  secret_kms_key_arn                     = var.secret_kms_key_arn
  vpc_subnet_ids                         = var.vpc_subnet_ids
  vpc_security_group_ids                 = var.vpc_security_group_ids
  lambda_package_path                    = coalesce(var.lambda_package_path, "../../target/lambda/${var.lambda_architecture}/chat-proxy/bootstrap.zip")
  backend_package_path                   = var.backend_url != null ? null : coalesce(var.backend_package_path, "../../target/lambda/${var.lambda_architecture}/chat-backend-lambda/bootstrap.zip")
  lambda_architecture                    = var.lambda_architecture
  lambda_memory_size                     = var.lambda_memory_size
  backend_memory_size                    = var.backend_memory_size
  lambda_reserved_concurrency            = var.lambda_reserved_concurrency
  websocket_domain_name                  = var.websocket_domain_name
  websocket_certificate_arn              = var.websocket_certificate_arn
  http_domain_name                       = var.http_domain_name
  http_certificate_arn                   = var.http_certificate_arn
  cors_allowed_origins                   = var.cors_allowed_origins == null ? [] : var.cors_allowed_origins
  http_throttling_burst_limit            = var.http_throttling_burst_limit
  http_throttling_rate_limit             = var.http_throttling_rate_limit
  throttling_burst_limit                 = var.throttling_burst_limit
  throttling_rate_limit                  = var.throttling_rate_limit
  execution_logging_level                = var.execution_logging_level
  access_logging                         = var.access_logging
  log_retention_days                     = var.log_retention_days
  log_sample_rate                        = var.log_sample_rate
  lambda_system_log_level                = var.lambda_system_log_level
  log_kms_key_arn                        = var.log_kms_key_arn
  table_deletion_protection              = var.table_deletion_protection
  alarm_topic_arn                        = var.alarm_topic_arn
  detailed_route_metrics                 = var.detailed_route_metrics
  chat_events                            = var.chat_events
  chat_events_archive_retention_days     = var.chat_events_archive_retention_days
  notifications                          = var.notifications
  notify_link_secret_ssm_parameter_name  = var.notify_link_secret_ssm_parameter_name
  notify_link_secret_secrets_manager_arn = var.notify_link_secret_secrets_manager_arn
  notifier_package_path                  = var.notifications == null ? null : coalesce(var.notifier_package_path, "../../target/lambda/${var.lambda_architecture}/chat-notifier/bootstrap.zip")
  web_push                               = var.web_push
  vapid_private_key_ssm_parameter_name   = var.vapid_private_key_ssm_parameter_name
  vapid_private_key_secrets_manager_arn  = var.vapid_private_key_secrets_manager_arn
  chat_rules                             = var.chat_rules
  attachments                            = var.attachments
  media_package_path                     = var.attachments == null ? null : coalesce(var.media_package_path, "../../target/lambda/${var.lambda_architecture}/chat-media/bootstrap.zip")
  message_retention_days                 = var.message_retention_days
}
