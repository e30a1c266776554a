locals {
  environment = "prod"
}

module "booking_chat" {
  source = "../../terraform/modules/booking-chat"

  environment                      = local.environment
  backend_url                      = var.backend_url
  proxy_secret_ssm_parameter_name  = var.proxy_secret_ssm_parameter_name
  proxy_secret_secrets_manager_arn = var.proxy_secret_secrets_manager_arn
  lambda_package_path              = var.lambda_package_path
  lambda_architecture              = var.lambda_architecture
  lambda_memory_size               = var.lambda_memory_size
  lambda_reserved_concurrency      = var.lambda_reserved_concurrency
  throttling_burst_limit           = var.throttling_burst_limit
  throttling_rate_limit            = var.throttling_rate_limit
  execution_logging_level          = var.execution_logging_level
  manage_account_logging_role      = var.manage_account_logging_role
  log_retention_days               = var.log_retention_days
  table_deletion_protection        = var.table_deletion_protection
  alarm_topic_arn                  = var.alarm_topic_arn
}
