# One Rust Lambda function from the zip `make package` builds, as each of this project's functions runs: its
# log group, the function (a new published version on every code or configuration change), the alias its
# callers invoke, and its role (iam.tf). What the function does is its caller's to say: its environment,
# the statements of its role, and which of its metrics mean trouble. Terraform never builds code.
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
  # Secrets travel by name, never by value: <NAME>_SSM_PARAMETER or <NAME>_SECRETS_MANAGER_ID, which the
  # function reads once at cold start.
  secret_environment = merge([for name, secret in var.secrets :
    secret.ssm_parameter_name != null
    ? { "${name}_SSM_PARAMETER" = secret.ssm_parameter_name }
    : { "${name}_SECRETS_MANAGER_ID" = secret.secrets_manager_arn }
  ]...)

  environment = merge(var.environment, local.secret_environment)

  in_vpc = length(var.vpc_subnet_ids) > 0
}

# The zip comes from `make package`; Terraform never builds code.
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:API Gateway, the proxy and SQS event source mappings invoke the functions synchronously (the notifications and media queues have their own dead-letter queues); a function DLQ only serves asynchronous invocations. The one function invoked asynchronously, the retention job (EventBridge Scheduler, hourly), keeps no failed event: the next hour's pass is its retry, its errors alarm, and what the scheduler could not deliver goes to the schedule's own dead-letter queue.
  #checkov:skip=CKV_AWS_117:A function runs in a VPC only when it must reach something there (vpc_subnet_ids, e.g. PostgreSQL); otherwise a VPC would need NAT or endpoints for DynamoDB, SSM and the Management API for no gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (secrets are read by name from SSM or Secrets Manager at start); the default key suffices.
  #checkov:skip=CKV_AWS_272:Packages come from make package in the same pipeline that applies them; add a Signer profile where signed code is mandated.
  function_name                  = var.name
  description                    = var.description
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

  # Without a system_log_level, the text format: the function's lines as it writes them (JSON lines, the
  # embedded-metric-format ones among them) and Lambda's own START, END and REPORT lines as text (about 330
  # bytes an invocation with X-Ray). With one, Lambda's JSON format: a line that is already JSON passes
  # through as written, Lambda's own lines become JSON objects and only those at system_log_level or above
  # are written (WARN: no START, END or REPORT line; a timeout or a crash still is). Lambda filters none of
  # the function's lines (TRACE): its RUST_LOG and LOG_SAMPLE_RATE decide them, and an embedded-metric-format
  # line, which has no "level", counts as INFO.
  logging_config {
    log_format            = var.system_log_level == null ? "Text" : "JSON"
    application_log_level = var.system_log_level == null ? null : "TRACE"
    system_log_level      = var.system_log_level
  }

  environment {
    variables = local.environment
  }

  # Only with subnets: the function then reaches what it needs outside the VPC through their routes.
  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  # The log group (/aws/lambda/<name>, Lambda's default) must exist with its retention before the first
  # invocation, or Lambda creates it without one; the role must allow the network interfaces before a VPC
  # function is created.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}

# What the callers invoke. Rollback without a build: aws lambda update-alias --function-name NAME --name live
# --function-version N (the next apply points it back at what the configuration says).
resource "aws_lambda_alias" "this" {
  name             = var.alias_name
  description      = "The version this function's callers invoke"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}
