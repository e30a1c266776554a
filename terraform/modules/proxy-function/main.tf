# The proxy function, which is also the WebSocket API's `$connect` authorizer: its log group, the function (a
# new published version on every code or configuration change), the alias API Gateway invokes for both, and
# the alarms on what means trouble.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# The zip comes from `make package`; Terraform never builds code.
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously; a DLQ only serves asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function reaches the backend over HTTPS and AWS APIs publicly; a VPC would need NAT or endpoints for no gain here.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (the proxy secret is read from SSM or Secrets Manager at start); the default key suffices.
  #checkov:skip=CKV_AWS_272:Packages come from make package in the same pipeline that applies them; add a Signer profile where signed code is mandated.
  function_name                  = var.name
  description                    = "Booking chat: the $connect authorizer, API Gateway WebSocket events to the chat backend, connection records, fan-out"
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  architectures                  = [var.architecture]
  handler                        = "bootstrap"
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  # Every change publishes an immutable version; the alias below points at it, so rolling back is pointing
  # the alias at an earlier version.
  publish = true

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  environment {
    variables = merge(
      # Exactly one way to the backend: the function invoked with IAM, or a URL.
      var.backend_function_arn == null ? { BACKEND_URL = var.backend_url } : { BACKEND_FUNCTION = var.backend_function_arn },
      {
        BACKEND_TIMEOUT_MS = tostring(var.backend_timeout_ms)
        CONNECTIONS_TABLE  = var.connections_table_name
        MAX_FRAME_BYTES    = tostring(var.max_frame_bytes)
        FANOUT_CONCURRENCY = tostring(var.fanout_concurrency)
        METRICS_NAMESPACE  = var.metrics_namespace
        RUST_LOG           = var.log_level
      },
      var.proxy_secret_ssm_parameter_name == null ? {} : { PROXY_SECRET_SSM_PARAMETER = var.proxy_secret_ssm_parameter_name },
      var.proxy_secret_secrets_manager_arn == null ? {} : { PROXY_SECRET_SECRETS_MANAGER_ID = var.proxy_secret_secrets_manager_arn },
    )
  }

  tags = var.tags

  # The log group (/aws/lambda/<name>, Lambda's default) must exist with its retention before the first
  # invocation, or Lambda creates it without one. Logs stay in the text format: the function writes JSON
  # lines itself, and the embedded-metric-format lines must reach CloudWatch unwrapped.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}

# What API Gateway invokes. Rollback without a build: aws lambda update-alias --function-name NAME
# --name live --function-version N (the next apply points it back at what the configuration says).
resource "aws_lambda_alias" "this" {
  name             = var.alias_name
  description      = "The version API Gateway invokes"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
}

# The function's errors other than refused tokens: a crash, a timeout or an unhandled error. Every missing,
# malformed, forged or expired token makes the $connect authorizer fail with `Unauthorized`, which API
# Gateway answers with 401 and Lambda counts in the function's Errors; for each, the proxy prints the
# embedded-metric-format metric HandshakesUnauthorized (Count) in its METRICS_NAMESPACE with the dimension
# Stage (lambda/src/handler.rs), as it does FanoutFailed. Each side is FILLed with 0, so errors alone alarm,
# and refusals alone do not.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "The proxy function failed (crash, timeout or unhandled error; refused tokens are left out): connects or messages are lost."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "failures"
    expression  = "FILL(errors, 0) - FILL(unauthorized, 0)"
    label       = "Errors other than refused tokens"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      stat        = "Sum"
      period      = 300
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
    }
  }

  metric_query {
    id = "unauthorized"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "HandshakesUnauthorized"
      stat        = "Sum"
      period      = 300
      dimensions  = { Stage = var.stage_name }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-throttles"
  alarm_description   = "The proxy function is throttled (reserved or account concurrency): API Gateway answers 500."
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

# Both alarms were once instances of one resource; existing state follows them.
moved {
  from = aws_cloudwatch_metric_alarm.function["errors"]
  to   = aws_cloudwatch_metric_alarm.errors
}

moved {
  from = aws_cloudwatch_metric_alarm.function["throttles"]
  to   = aws_cloudwatch_metric_alarm.throttles
}

# Close to API Gateway's 29 s integration timeout, clients get an error frame instead of an answer.
resource "aws_cloudwatch_metric_alarm" "duration" {
  alarm_name          = "${var.name}-duration"
  alarm_description   = "The proxy function's p99 duration is close to API Gateway's 29 s integration timeout: the backend or the fan-out is slow."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.duration_alarm_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# The proxy's own embedded-metric-format metric (connections/src/fanout.rs): deliveries to live connections that
# still failed after retries, so members of a booking missed a message.
resource "aws_cloudwatch_metric_alarm" "fanout_failed" {
  alarm_name          = "${var.name}-fanout-failed"
  alarm_description   = "Fan-out deliveries failed after retries (not Gone): connected members missed messages."
  namespace           = var.metrics_namespace
  metric_name         = "FanoutFailed"
  dimensions          = { Stage = var.stage_name }
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
