# The booking chat's AWS side for one environment: the connections table, the proxy function and the
# WebSocket API in front of it, wired together. API Gateway's account-level logging role is not part of an
# environment (module apigateway-account, applied once per account and region).
locals {
  name = "booking-chat-${var.environment}"
}

module "connections_table" {
  source = "../connections-table"

  name                = "${local.name}-connections"
  deletion_protection = var.table_deletion_protection
  alarm_topic_arn     = var.alarm_topic_arn
  tags                = var.tags
}

module "proxy_function" {
  source = "../proxy-function"

  name                             = "${local.name}-proxy"
  package_path                     = var.lambda_package_path
  architecture                     = var.lambda_architecture
  memory_size                      = var.lambda_memory_size
  reserved_concurrency             = var.lambda_reserved_concurrency
  backend_url                      = var.backend_url
  proxy_secret_ssm_parameter_name  = var.proxy_secret_ssm_parameter_name
  proxy_secret_secrets_manager_arn = var.proxy_secret_secrets_manager_arn
  secret_kms_key_arn               = var.secret_kms_key_arn
  connections_table_name           = module.connections_table.name
  connections_table_arn            = module.connections_table.arn
  api_execution_arn                = module.websocket_api.execution_arn
  stage_name                       = var.environment
  log_retention_days               = var.log_retention_days
  log_kms_key_arn                  = var.log_kms_key_arn
  alarm_topic_arn                  = var.alarm_topic_arn
  tags                             = var.tags
}

module "websocket_api" {
  source = "../websocket-api"

  name                    = local.name
  stage_name              = var.environment
  lambda_function_name    = module.proxy_function.function_name
  lambda_invoke_arn       = module.proxy_function.invoke_arn
  lambda_qualifier        = module.proxy_function.alias_name
  throttling_burst_limit  = var.throttling_burst_limit
  throttling_rate_limit   = var.throttling_rate_limit
  execution_logging_level = var.execution_logging_level
  access_logging          = var.access_logging
  log_retention_days      = var.log_retention_days
  log_kms_key_arn         = var.log_kms_key_arn
  alarm_topic_arn         = var.alarm_topic_arn
  tags                    = var.tags
}
