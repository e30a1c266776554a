# The chat backend (backend/, crate chat-backend) as a Lambda function: the same axum router served by
# lambda_http, behind the HTTP API (what browsers and the marketplace call) and invoked directly by the
# proxy function (the WebSocket events). Its log group, the function (a new published version on every
# code or configuration change), the alias both callers invoke, and the alarms on what means trouble.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

locals {
  # Secrets travel by name, never by value: <NAME>_SSM_PARAMETER or <NAME>_SECRETS_MANAGER_ID, read once at
  # cold start, as the proxy reads its own.
  secret_environment = merge([for name, secret in var.secrets :
    secret.ssm_parameter_name != null
    ? { "${name}_SSM_PARAMETER" = secret.ssm_parameter_name }
    : { "${name}_SECRETS_MANAGER_ID" = secret.secrets_manager_arn }
  ]...)

  environment = merge(
    {
      APP_ENV             = var.app_env
      LOG_FORMAT          = "json"
      RUST_LOG            = var.log_level
      CHAT_STORE          = var.chat_store
      CONNECTIONS_TABLE   = var.connections_table_name
      MANAGEMENT_ENDPOINT = var.management_endpoint
      METRICS_NAMESPACE   = var.metrics_namespace
      AWS_TIMEOUT_MS      = tostring(var.aws_timeout_ms)
    },
    var.chat_store == "dynamodb" ? { CHAT_TABLE = var.chat_table_name } : {},
    var.chat_store == "postgres" ? { DATABASE_MAX_CONNECTIONS = tostring(var.database_max_connections) } : {},
    var.identity_provider == null ? {} : {
      JWT_JWKS_URL = var.identity_provider.jwks_url
      JWT_ISSUER   = var.identity_provider.issuer
      JWT_AUDIENCE = var.identity_provider.audience
    },
    local.secret_environment,
  )

  in_vpc = length(var.vpc_subnet_ids) > 0
}

# The zip comes from `make package`; Terraform never builds code.
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:The HTTP API and the proxy invoke the function synchronously; a DLQ only serves asynchronous invocations.
  #checkov:skip=CKV_AWS_117:On the DynamoDB store the function needs no VPC (a VPC would need NAT or endpoints for DynamoDB, SSM and the Management API); with PostgreSQL it runs in the given subnets.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (secrets are read by name from SSM or Secrets Manager at start); the default key suffices.
  #checkov:skip=CKV_AWS_272:Packages come from make package in the same pipeline that applies them; add a Signer profile where signed code is mandated.
  function_name                  = var.name
  description                    = "Booking chat backend: history, bookings service API, the proxy's WebSocket events, status pushes"
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  architectures                  = [var.architecture]
  handler                        = "bootstrap"
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  # Every change publishes an immutable version; the alias below points at it.
  publish = true

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  environment {
    variables = local.environment
  }

  # Only with PostgreSQL: the database is reached in its VPC. The subnets need a route to DynamoDB (the
  # connection records), SSM or Secrets Manager, and the Management API's public endpoint (status pushes):
  # a NAT gateway, or VPC endpoints where they exist.
  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  # The log group must exist with its retention before the first invocation, and the role must allow the
  # network interfaces before a VPC function is created.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}

# What the HTTP API and the proxy invoke. Rollback without a build: aws lambda update-alias --function-name
# NAME --name live --function-version N (the next apply points it back at what the configuration says).
resource "aws_lambda_alias" "this" {
  name             = var.alias_name
  description      = "The version the HTTP API and the proxy invoke"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  # Close to the function's own timeout, requests start timing out (the proxy answers BACKEND_UNAVAILABLE,
  # the HTTP API a 5xx).
  duration_alarm_threshold_ms = coalesce(var.duration_alarm_threshold_ms, floor(var.timeout_seconds * 1000 * 0.8))
}

# The backend answers refusals (401, 403, 404, 409) as responses, not as function errors: every error here is
# a crash, a timeout or an unhandled failure.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "The backend function failed (crash, timeout or unhandled error): API calls or WebSocket events failed."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-throttles"
  alarm_description   = "The backend function is throttled (reserved or account concurrency): the HTTP API answers with a 5xx, the proxy with BACKEND_UNAVAILABLE."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration" {
  alarm_name          = "${var.name}-duration"
  alarm_description   = "The backend function's p99 duration is close to its timeout: the store or the database is slow."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 1
  threshold           = local.duration_alarm_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
