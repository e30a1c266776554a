# The retention job, with `message_retention_days` set (docs/deploying.md, Retention): the chat of a booking
# that ended more than that many days ago is deleted, its messages and everything that hangs on them
# (reactions, idempotency keys, read positions, attachments' records and files, notification claims). The
# job is the backend's own package (the zip of the backend function) run as a function of its own with
# CHAT_JOB=retention: it then takes plain Lambda invocations instead of HTTP, runs one pass within its time
# limit and answers {"bookings", "messages", "files", "complete"}, or fails the invocation. EventBridge
# Scheduler invokes it every hour, asynchronously; a pass that runs out of time (complete false) leaves the
# rest to the next one. Its permissions are in iam.tf (retention_statements), its alarms in alarms.tf.
#
# Who retries what: the schedule's retry policy and dead-letter queue cover delivery, an Invoke that Lambda
# refused (throttled, denied, no such function); once Lambda has accepted the event, a failed pass is the
# function's own, and is not retried (the event invoke config below): the next hour's pass is the retry,
# and the retention-errors alarm says it failed.
locals {
  retention = var.message_retention_days != null

  # A pass deletes what it can in its time and says whether it is complete; five minutes bound one pass
  # (and what it costs) while a backlog is worked through, an hour apart.
  retention_timeout_seconds = 300
  retention_schedule        = "rate(1 hour)"
  # A delivery the scheduler could not make (Invoke refused) is tried twice more, for at most an hour: by
  # then the next pass is due anyway.
  retention_delivery_retries     = 2
  retention_delivery_max_age_s   = 3600
  retention_stalled_alarm_period = 10800 # three schedules

  # The job's configuration contract (backend/src/lambda.rs run_job, backend/src/config.rs), secrets aside:
  # the chat store and the file store as the backend is given them, and how long an ended booking's chat
  # is kept. No service token, no JWT or proxy secret (the job puts placeholders nobody knows in their
  # place), no connections table or Management API, no event bus: it serves no request and pushes nothing.
  retention_environment = local.retention ? tomap(merge(
    {
      APP_ENV             = var.environment
      LOG_FORMAT          = "json"
      RUST_LOG            = "info"
      METRICS_NAMESPACE   = var.metrics_namespace
      STAGE               = var.environment
      CHAT_JOB            = "retention"
      CHAT_RETENTION_DAYS = tostring(var.message_retention_days)
      # The backend's: the job's configuration refuses a retention that is not longer, and would otherwise
      # check it against the default (7 days) and refuse a shorter retention the chat rules allow.
      CHAT_READ_ONLY_AFTER_SECONDS = local.chat_rules_environment.CHAT_READ_ONLY_AFTER_SECONDS
    },
    local.chat_store_environment,
    # With attachments: the bucket whose files it deletes, read as the backend reads it.
    local.attachments_environment,
  )) : tomap({})

  # Its one secret: with PostgreSQL, the database's URL.
  retention_secrets = var.chat_store == "postgres" ? { DATABASE_URL = local.database_url } : {}

  # The scheduler's execution role may invoke the job's alias and put what it could not deliver on the
  # dead-letter queue: nothing else.
  retention_scheduler_policy = local.retention ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeRetention"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [module.retention_function[0].alias_arn]
      },
      {
        Sid      = "RetentionDeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.retention_dead_letter[0].arn]
      },
    ]
  }) : null
}

# The retention job (backend/, crate chat-backend, CHAT_JOB=retention) on Lambda: the backend function's
# zip, size and store; with PostgreSQL in the backend's subnets, as it reads the same database.
module "retention_function" {
  source = "../lambda-function"
  count  = local.retention ? 1 : 0

  name            = "${local.name}-retention"
  description     = "Booking chat retention job: deletes the chat of bookings that ended more than ${var.message_retention_days} days ago, every hour (the backend's package, CHAT_JOB=retention)"
  package_path    = var.backend_package_path
  architecture    = var.lambda_architecture
  memory_size     = var.backend_memory_size
  timeout_seconds = local.retention_timeout_seconds
  environment     = local.retention_environment
  secrets         = local.retention_secrets
  # A key for the secrets only when it reads one.
  secret_kms_key_arn     = length(local.retention_secrets) > 0 ? var.secret_kms_key_arn : null
  policy_statements      = local.retention_statements
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  system_log_level       = var.lambda_system_log_level
  tags                   = var.tags
}

# Lambda retries a failed asynchronous invocation twice by default, a minute and then two later: each a
# whole pass again, most often failing for the same reason. None here: the next hour's pass is the retry.
# An event Lambda could not run within the hour (throttled all along) is dropped for the next one.
resource "aws_lambda_function_event_invoke_config" "retention" {
  count = local.retention ? 1 : 0

  function_name                = module.retention_function[0].function_name
  qualifier                    = module.retention_function[0].alias_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = local.retention_delivery_max_age_s
}

# The environment's schedules: their ARNs, and what the scheduler's execution role trusts (EventBridge
# Scheduler assumes it on behalf of a schedule group, aws:SourceArn).
resource "aws_scheduler_schedule_group" "schedules" {
  count = local.retention ? 1 : 0

  name = local.name
  tags = var.tags
}

# What the scheduler could not deliver after its retries (a dead-letter event: the schedule, the target
# and the error Lambda answered), kept 14 days to look at (the retention-dead-letters alarm). There is
# nothing to redrive: the next hour's pass does the work.
resource "aws_sqs_queue" "retention_dead_letter" {
  count = local.retention ? 1 : 0

  name                      = "${local.name}-retention-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.notifications_dead_letter_retention_s
  tags                      = var.tags
}

# EventBridge Scheduler sends dead-letter events with the schedule's execution role (not as a service
# principal, as an EventBridge rule does): that role, and no one else, is granted SendMessage here.
resource "aws_sqs_queue_policy" "retention_dead_letter" {
  count = local.retention ? 1 : 0

  queue_url = aws_sqs_queue.retention_dead_letter[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "RetentionSchedule"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.retention_scheduler[0].arn }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.retention_dead_letter[0].arn
    }]
  })
}

# The schedule's execution role: EventBridge Scheduler may assume it for this account's schedules of this
# environment's group only (the confused deputy: no other account's schedule, nor another group's).
resource "aws_iam_role" "retention_scheduler" {
  count = local.retention ? 1 : 0

  name = "${local.name}-retention-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnEquals    = { "aws:SourceArn" = aws_scheduler_schedule_group.schedules[0].arn }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "retention_scheduler" {
  count = local.retention ? 1 : 0

  name   = "${local.name}-retention-scheduler-least-privilege"
  role   = aws_iam_role.retention_scheduler[0].id
  policy = local.retention_scheduler_policy
}

# Every hour, without a flexible window (one pass an hour, never two close together), the job's alias with a
# fixed input; the job reads nothing from it.
resource "aws_scheduler_schedule" "retention" {
  count = local.retention ? 1 : 0

  #checkov:skip=CKV_AWS_297:The schedule holds no data to protect (its input is the constant {"job":"retention"}, its target an ARN): EventBridge Scheduler's AWS owned key encrypts it; a customer managed key would add a key and its policy for nothing.
  name                = "${local.name}-retention"
  group_name          = aws_scheduler_schedule_group.schedules[0].name
  description         = "Booking chat ${var.environment}: the retention job, deleting the chat of bookings that ended more than ${var.message_retention_days} days ago"
  schedule_expression = local.retention_schedule
  state               = "ENABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.retention_function[0].alias_arn
    role_arn = aws_iam_role.retention_scheduler[0].arn
    input    = jsonencode({ job = "retention" })

    retry_policy {
      maximum_retry_attempts       = local.retention_delivery_retries
      maximum_event_age_in_seconds = local.retention_delivery_max_age_s
    }

    dead_letter_config {
      arn = aws_sqs_queue.retention_dead_letter[0].arn
    }
  }

  # The role may invoke before the first invocation.
  depends_on = [aws_iam_role_policy.retention_scheduler]
}
