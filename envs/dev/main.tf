locals {
  environment = "dev"
}

module "booking_chat" {
  source = "../../terraform/modules/booking-chat"

  environment                      = local.environment
  backend_url                      = var.backend_url
  proxy_secret_ssm_parameter_name  = var.proxy_secret_ssm_parameter_name
  proxy_secret_secrets_manager_arn = var.proxy_secret_secrets_manager_arn
  secret_kms_key_arn               = var.secret_kms_key_arn
  lambda_package_path              = coalesce(var.lambda_package_path, "../../target/lambda/${var.lambda_architecture}/chat-proxy/bootstrap.zip")
  lambda_architecture              = var.lambda_architecture
  lambda_memory_size               = var.lambda_memory_size
  lambda_reserved_concurrency      = var.lambda_reserved_concurrency
  throttling_burst_limit           = var.throttling_burst_limit
  throttling_rate_limit            = var.throttling_rate_limit
  execution_logging_level          = var.execution_logging_level
  access_logging                   = var.access_logging
  log_retention_days               = var.log_retention_days
  log_kms_key_arn                  = var.log_kms_key_arn
  table_deletion_protection        = var.table_deletion_protection
  alarm_topic_arn                  = var.alarm_topic_arn
}
