# Email notifications of unread messages, with `notifications` set (docs/deploying.md, Email notifications),
# and with `web_push` Web Push to the browsers members subscribed, sent by the same notifier.
# A rule on the chat events' bus sends every message.created to the notifications queue; the notifier
# function (notifier/, crate chat-notifier) consumes that queue through an event source mapping, reporting
# the items that failed rather than failing the batch, and sends messages of its own to the same queue with
# DelaySeconds to wait (the delay before notifying, quiet hours, one email per quiet period). It reads the
# chat store as the backend function does and writes its own small items there, and emails through SES v2
# as ses_identity; with web_push it also POSTs to the push services of the members' subscriptions, on the
# internet (outside a VPC, or through the subnets' NAT in one). What was received five times without being
# handled goes to the dead-letter queue, and so does what EventBridge could not deliver to the queue. Its
# permissions are in iam.tf, its alarms in alarms.tf.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  notifications = var.notifications != null

  # An SQS event source retries a batch once its messages are visible again: Lambda's advice is a visibility
  # timeout of at least six times the function's timeout (there is no batching window to add), so that a
  # batch is not received twice while it still runs.
  notifier_timeout_seconds              = 20
  notifications_visibility_timeout      = 6 * local.notifier_timeout_seconds
  notifications_max_receive_count       = 5
  notifications_dead_letter_retention_s = 1209600 # 14 days, SQS's longest: time to look and redrive
  # The longest DelaySeconds SQS takes, with which the notifier waits (hop after hop for longer waits).
  sqs_max_delay_seconds = 900

  # SES authorises SendEmail on the identity it sends as (and on the configuration set, when one is named).
  ses_arn_prefix            = "arn:${data.aws_partition.current.partition}:ses:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  ses_identity_arn          = local.notifications ? "${local.ses_arn_prefix}:identity/${var.notifications.ses_identity}" : null
  ses_configuration_set_arn = local.notifications ? (var.notifications.configuration_set == null ? null : "${local.ses_arn_prefix}:configuration-set/${var.notifications.configuration_set}") : null

  # Where the emails' unsubscribe links point: the backend's HTTP API, on its custom domain when it has one.
  public_api_url = var.http_domain_name != null ? "https://${var.http_domain_name}" : one(module.http_api[*].url)

  # The notifier's secrets: the unsubscribe links' key, the database's URL with PostgreSQL, and with Web Push
  # the VAPID private key, which it alone reads (the backend has the public key).
  notifier_secrets = merge(
    { NOTIFY_LINK_SECRET = local.notify_link_secret },
    var.chat_store == "postgres" ? { DATABASE_URL = local.database_url } : {},
    local.web_push ? { VAPID_PRIVATE_KEY = local.vapid_private_key } : {},
  )

  # The notifier's configuration contract (notifier/), secrets aside: the chat store as the backend reads
  # it, the queue it consumes and delays messages on, how long it waits, what it sends and what it links to.
  notifier_environment = local.notifications ? tomap(merge(
    {
      APP_ENV           = var.environment
      LOG_FORMAT        = "json"
      RUST_LOG          = "info"
      METRICS_NAMESPACE = var.metrics_namespace
      STAGE             = var.environment
      NOTIFY_QUEUE_URL  = aws_sqs_queue.notifications[0].url
      # How long a message waits unread before it is emailed, and the least time between two emails to one
      # member about one booking.
      NOTIFY_DELAY_SECONDS        = tostring(var.notifications.delay_seconds)
      NOTIFY_MIN_INTERVAL_SECONDS = tostring(var.notifications.min_interval_seconds)
      MAIL_FROM                   = var.notifications.email_from
      # The marketplace's page of a booking's chat, {booking_id} in it; and the base URL of
      # /api/notifications/unsubscribe, which the backend serves.
      APP_BOOKING_URL = var.notifications.booking_url
      PUBLIC_API_URL  = local.public_api_url
    },
    # The chat store as the backend reads it (main.tf).
    local.chat_store_environment,
    var.notifications.configuration_set == null ? {} : { SES_CONFIGURATION_SET = var.notifications.configuration_set },
    # Web Push: the contact the push services see in the VAPID claims, how long they keep an undelivered
    # push, and where the notifier may POST (unset, its built-in push services).
    local.web_push ? {
      VAPID_SUBJECT    = var.web_push.subject
      VAPID_PUBLIC_KEY = var.web_push.public_key
      PUSH_TTL_SECONDS = tostring(var.web_push.ttl_seconds)
    } : {},
    local.push_endpoint_hosts,
  )) : tomap({})
}

# What the notifier could not handle after five receives, and what EventBridge could not put on the queue:
# kept 14 days, to look at (the notifications-dead-letters alarm) and move back with a redrive.
resource "aws_sqs_queue" "notifications_dead_letter" {
  count = local.notifications ? 1 : 0

  name                      = "${local.name}-notifications-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.notifications_dead_letter_retention_s
  tags                      = var.tags
}

resource "aws_sqs_queue" "notifications" {
  count = local.notifications ? 1 : 0

  name                       = "${local.name}-notifications"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.notifications_visibility_timeout
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.notifications_dead_letter[0].arn
    maxReceiveCount     = local.notifications_max_receive_count
  })
  tags = var.tags
}

# Only the notifications queue may move its messages to the dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "notifications_dead_letter" {
  count = local.notifications ? 1 : 0

  queue_url = aws_sqs_queue.notifications_dead_letter[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.notifications[0].arn]
  })
}

# Every new message of the chat, as the backend puts it on the bus (docs/events.md).
resource "aws_cloudwatch_event_rule" "notifications" {
  count = local.notifications ? 1 : 0

  name           = "${local.name}-notifications"
  description    = "New chat messages of ${var.environment}, to the notifier's queue"
  event_bus_name = aws_cloudwatch_event_bus.chat_events[0].name
  event_pattern  = jsonencode({ source = ["booking-chat"], "detail-type" = ["message.created"] })
  tags           = var.tags
}

# EventBridge retries a failed delivery (for up to 24 hours), then puts the event on the dead-letter queue.
resource "aws_cloudwatch_event_target" "notifications" {
  count = local.notifications ? 1 : 0

  rule           = aws_cloudwatch_event_rule.notifications[0].name
  event_bus_name = aws_cloudwatch_event_rule.notifications[0].event_bus_name
  target_id      = "notifications-queue"
  arn            = aws_sqs_queue.notifications[0].arn

  dead_letter_config {
    arn = aws_sqs_queue.notifications_dead_letter[0].arn
  }
}

# EventBridge may send to each queue for this rule only.
resource "aws_sqs_queue_policy" "notifications" {
  for_each = local.notifications ? {
    queue       = aws_sqs_queue.notifications[0]
    dead_letter = aws_sqs_queue.notifications_dead_letter[0]
  } : {}

  queue_url = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ChatEventsRule"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = each.value.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.notifications[0].arn } }
    }]
  })
}

# The notifier (notifier/, crate chat-notifier) on Lambda, invoked by the event source mapping below through
# its alias. With PostgreSQL it runs in the backend function's subnets, as it reads the same database.
module "notifier_function" {
  source = "../lambda-function"
  count  = local.notifications ? 1 : 0

  name                   = "${local.name}-notifier"
  description            = "Booking chat notifier: emails (and with Web Push, pushes to) members about messages they have not read"
  package_path           = var.notifier_package_path
  architecture           = var.lambda_architecture
  memory_size            = 256
  timeout_seconds        = local.notifier_timeout_seconds
  environment            = local.notifier_environment
  secrets                = local.notifier_secrets
  secret_kms_key_arn     = var.secret_kms_key_arn
  policy_statements      = local.notifier_statements
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  system_log_level       = var.lambda_system_log_level
  tags                   = var.tags
}

# Lambda polls the queue and invokes the alias with up to 10 messages; the function answers which failed
# (ReportBatchItemFailures), and only those are received again. maximum_concurrency caps the invocations at
# once, so that a burst waits in the queue rather than outrunning SES's sending rate.
resource "aws_lambda_event_source_mapping" "notifications" {
  count = local.notifications ? 1 : 0

  event_source_arn        = aws_sqs_queue.notifications[0].arn
  function_name           = module.notifier_function[0].alias_arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.notifications.maximum_concurrency
  }
}
