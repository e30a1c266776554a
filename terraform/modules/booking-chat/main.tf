# The booking chat's AWS side for one environment, wired together: the WebSocket API in front of the proxy
# function, the connections table, and - unless backend_url names a backend that runs elsewhere - the
# backend function the proxy invokes directly, with its chat table (or an existing PostgreSQL reached in
# its VPC) and the public HTTP API in front of it; optionally a custom domain for each API. API Gateway's
# account-level logging role is not part of an environment (module apigateway-account, applied once per
# account and region).
locals {
  name = "booking-chat-${var.environment}"

  # The backend is this environment's Lambda function unless backend_url names one elsewhere: then there is
  # no backend function and no chat table, and the proxy calls that URL.
  backend_function = var.backend_url == null
  chat_table       = local.backend_function && var.chat_store == "dynamodb"

  # The backend's secrets by the name it reads them under; each is an SSM parameter or a Secrets Manager
  # secret, never a value.
  backend_secrets = merge(
    {
      JWT_SECRET    = { ssm_parameter_name = var.jwt_secret_ssm_parameter_name, secrets_manager_arn = var.jwt_secret_secrets_manager_arn }
      PROXY_SECRET  = { ssm_parameter_name = var.proxy_secret_ssm_parameter_name, secrets_manager_arn = var.proxy_secret_secrets_manager_arn }
      SERVICE_TOKEN = { ssm_parameter_name = var.service_token_ssm_parameter_name, secrets_manager_arn = var.service_token_secrets_manager_arn }
    },
    {
      for name, secret in { DATABASE_URL = { ssm_parameter_name = var.database_url_ssm_parameter_name, secrets_manager_arn = var.database_url_secrets_manager_arn } } :
      name => secret if var.chat_store == "postgres"
    },
  )
}

module "connections_table" {
  source = "../connections-table"

  name                = "${local.name}-connections"
  deletion_protection = var.table_deletion_protection
  alarm_topic_arn     = var.alarm_topic_arn
  tags                = var.tags
}

module "chat_table" {
  source = "../chat-table"
  count  = local.chat_table ? 1 : 0

  name                = "${local.name}-chat"
  deletion_protection = var.table_deletion_protection
  alarm_topic_arn     = var.alarm_topic_arn
  tags                = var.tags
}

module "backend_function" {
  source = "../backend-function"
  count  = local.backend_function ? 1 : 0

  name                   = "${local.name}-backend"
  package_path           = var.backend_package_path
  architecture           = var.lambda_architecture
  memory_size            = var.backend_memory_size
  timeout_seconds        = var.backend_timeout_seconds
  app_env                = var.environment
  chat_store             = var.chat_store
  chat_table_name        = local.chat_table ? module.chat_table[0].name : null
  chat_table_arn         = local.chat_table ? module.chat_table[0].arn : null
  chat_table_index_arns  = local.chat_table ? [module.chat_table[0].gsi1_arn] : []
  secrets                = local.backend_secrets
  secret_kms_key_arn     = var.secret_kms_key_arn
  identity_provider      = var.identity_provider
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  connections_table_name = module.connections_table.name
  connections_table_arn  = module.connections_table.arn
  api_execution_arn      = module.websocket_api.execution_arn
  stage_name             = var.environment
  management_endpoint    = module.websocket_api.management_endpoint
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  alarm_topic_arn        = var.alarm_topic_arn
  tags                   = var.tags
}

module "http_api" {
  source = "../http-api"
  count  = local.backend_function ? 1 : 0

  name                   = "${local.name}-http"
  lambda_function_name   = module.backend_function[0].function_name
  lambda_invoke_arn      = module.backend_function[0].invoke_arn
  lambda_qualifier       = module.backend_function[0].alias_name
  cors_allowed_origins   = var.cors_allowed_origins
  cors_allow_credentials = var.cors_allow_credentials
  throttling_burst_limit = var.http_throttling_burst_limit
  throttling_rate_limit  = var.http_throttling_rate_limit
  access_logging         = var.http_access_logging
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  alarm_topic_arn        = var.alarm_topic_arn
  tags                   = var.tags
}

# Custom domains (regional, TLS 1.2), each API's stage at the domain's root. The Management API endpoint the
# functions use stays the execute-api one: a custom domain does not serve @connections.
module "websocket_domain" {
  source = "../api-domain"
  count  = var.websocket_domain_name == null ? 0 : 1

  domain_name     = var.websocket_domain_name
  certificate_arn = var.websocket_certificate_arn
  api_id          = module.websocket_api.api_id
  stage_name      = module.websocket_api.stage_name
  tags            = var.tags
}

module "http_domain" {
  source = "../api-domain"
  count  = local.backend_function && var.http_domain_name != null ? 1 : 0

  domain_name     = var.http_domain_name
  certificate_arn = var.http_certificate_arn
  api_id          = module.http_api[0].api_id
  stage_name      = module.http_api[0].stage_name
  tags            = var.tags
}

module "proxy_function" {
  source = "../proxy-function"

  name                             = "${local.name}-proxy"
  package_path                     = var.lambda_package_path
  architecture                     = var.lambda_architecture
  memory_size                      = var.lambda_memory_size
  reserved_concurrency             = var.lambda_reserved_concurrency
  backend_url                      = var.backend_url
  backend_function_arn             = local.backend_function ? module.backend_function[0].alias_arn : null
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
