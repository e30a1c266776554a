# Every alarm of the environment, in one place: what means trouble, at what threshold, and why. Each looks
# at 5-minute periods (push-failed at 15-minute ones), fires on the first one above its threshold, treats a
# period without data as fine, and notifies alarm_topic_arn (when set) when it fires and when it clears;
# retention-stalled, at the end, is the one that watches for what did not happen.
locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]

  proxy_dimensions   = { FunctionName = module.proxy_function.function_name }
  backend_dimensions = local.backend_function ? { FunctionName = module.backend_function[0].function_name } : {}

  # Alarms on one metric each, by the end of their name; statistic is Sum, or a percentile such as p99;
  # period is 300 s unless given.
  metric_alarms = merge(
    {
      proxy-throttles = {
        description = "The proxy function is throttled (reserved or account concurrency): API Gateway answers 500."
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = local.proxy_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
      # Close to API Gateway's 29 s integration timeout, clients get an error frame instead of an answer.
      proxy-duration = {
        description = "The proxy function's p99 duration is close to API Gateway's 29 s integration timeout: the backend or the fan-out is slow."
        namespace   = "AWS/Lambda"
        metric_name = "Duration"
        dimensions  = local.proxy_dimensions
        statistic   = "p99"
        threshold   = 25000
      }
      # Deliveries to live connections that still failed after retries (connections/src/fanout.rs), so
      # members of a booking missed a message or a status change. Both functions fan out - the proxy the
      # chat, the backend its status pushes - and print FanoutFailed in the same namespace with the same
      # Stage, so this one metric counts the failures of either.
      fanout-failed = {
        description = "Fan-out deliveries failed after retries (not Gone), from the proxy or the backend's status pushes: connected members missed messages."
        namespace   = var.metrics_namespace
        metric_name = "FanoutFailed"
        dimensions  = local.emf_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
      # API Gateway could not call the integration (permission, throttling, the 29 s timeout). Not
      # IntegrationError, which also counts every handshake the integration refuses on purpose (400, 403,
      # 404, the authorizer's verdict).
      execution-errors = {
        alarm_name  = "${local.name}-${var.environment}-execution-errors"
        description = "API Gateway failed to call the proxy function (permission, throttling or timeout): handshakes or messages failed."
        namespace   = "AWS/ApiGateway"
        metric_name = "ExecutionError"
        dimensions  = { ApiId = module.websocket_api.api_id, Stage = module.websocket_api.stage_name }
        statistic   = "Sum"
        threshold   = 0
      }
    },
    local.backend_function ? {
      # The backend answers refusals (401, 403, 404, 409) as responses, not as function errors: every error
      # is a crash, a timeout or an unhandled failure.
      backend-errors = {
        description = "The backend function failed (crash, timeout or unhandled error): API calls or WebSocket events failed."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = local.backend_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
      backend-throttles = {
        description = "The backend function is throttled (reserved or account concurrency): the HTTP API answers with a 5xx, the proxy with BACKEND_UNAVAILABLE."
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = local.backend_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
      # Close to the function's own timeout, requests start timing out (the proxy answers
      # BACKEND_UNAVAILABLE, the HTTP API a 5xx): 80 % of it.
      backend-duration = {
        description = "The backend function's p99 duration is close to its timeout: the store or the database is slow."
        namespace   = "AWS/Lambda"
        metric_name = "Duration"
        dimensions  = local.backend_dimensions
        statistic   = "p99"
        threshold   = floor(var.backend_timeout_seconds * 1000 * 0.8)
      }
      # The integration failed (the function crashed, timed out or was throttled) or API Gateway could not
      # call it. 4xx (refused tokens, unknown routes, throttled clients) are the callers' and alarm nothing.
      http-5xx = {
        description = "The HTTP API answered with 5xx: history, status changes or the bookings service API failed."
        namespace   = "AWS/ApiGateway"
        metric_name = "5xx"
        dimensions  = { ApiId = module.http_api[0].api_id, Stage = module.http_api[0].stage_name }
        statistic   = "Sum"
        threshold   = 0
      }
    } : {},
    var.chat_events ? {
      # Chat events the backend could not put on the bus even after retries (PutEvents entries that still
      # failed): the app's rules never see them. The chat itself is unaffected (publishing is best effort,
      # never shown to the sender). The backend prints EventsFailed beside EventsPublished, in the namespace
      # and with the Stage of FanoutFailed; a count above 0 is at least one lost event.
      events-failed = {
        description = "Chat events failed to reach the EventBridge bus after retries: the app's rules never saw them (the chat itself is unaffected)."
        namespace   = var.metrics_namespace
        metric_name = "EventsFailed"
        dimensions  = local.emf_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
    } : {},
    local.notifications ? {
      # The notifier reports the messages it failed on (ReportBatchItemFailures) rather than failing the
      # batch: a function error is a crash, a timeout or a failure to start (configuration, secrets), and
      # its whole batch is received again.
      notifier-errors = {
        description = "The notifier function failed (crash, timeout or bad configuration): its batch of unread-message notifications is retried, then dead-lettered."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = { FunctionName = module.notifier_function[0].function_name }
        statistic   = "Sum"
        threshold   = 0
      }
      # Emails the notifier gave up on (SES refused or failed them after retries), printed as
      # NotificationsFailed beside NotificationsSent, NotificationsSkipped and NotificationsDeferred, in the
      # namespace and with the Stage of the other functions' metrics.
      notifications-failed = {
        description = "Notification emails failed (SES refused or failed them): members were not told of unread messages."
        namespace   = var.metrics_namespace
        metric_name = "NotificationsFailed"
        dimensions  = local.emf_dimensions
        statistic   = "Sum"
        threshold   = 0
      }
      # What was received five times without being handled, or what EventBridge could not deliver: a message
      # in the dead-letter queue is a notification nobody will send until it is redriven.
      notifications-dead-letters = {
        description = "Messages are in the notifications dead-letter queue: unread-message notifications the notifier never handled (or EventBridge never delivered). Look at them, fix the cause, redrive."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.notifications_dead_letter[0].name }
        statistic   = "Maximum"
        threshold   = 0
      }
      # A message's age counts from when it was sent, its DelaySeconds included: the notifier waits with
      # delays of up to 900 s (SQS's most), so a healthy queue's oldest message is younger than that plus a
      # receive. Older by a further delay_seconds means nothing is receiving: the mapping is off, the
      # function cannot start, or maximum_concurrency is too low for the load.
      notifications-queue-age = {
        description = "The notifications queue's oldest message is older than the longest wait (900 s) plus the notification delay: the notifier is not keeping up, or not receiving at all."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateAgeOfOldestMessage"
        dimensions  = { QueueName = aws_sqs_queue.notifications[0].name }
        statistic   = "Maximum"
        threshold   = local.sqs_max_delay_seconds + var.notifications.delay_seconds
      }
    } : {},
    local.attachments ? {
      # The processor reports an upload it refuses (a type not allowed, a file too large) to the backend as
      # rejected, and an item it failed on (ReportBatchItemFailures) rather than failing: a function error
      # is a crash, a timeout or a failure to start (configuration, the service token), and the upload's
      # event is received again.
      media-errors = {
        description = "The media processor failed (crash, timeout or bad configuration): uploads stay pending until their events are received again, then are dead-lettered."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = { FunctionName = module.media_function[0].function_name }
        statistic   = "Sum"
        threshold   = 0
      }
      # Reserved concurrency, or the account's, below what the event source mapping asks for.
      media-throttles = {
        description = "The media processor is throttled (reserved or account concurrency): uploads wait in the queue, pending."
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = { FunctionName = module.media_function[0].function_name }
        statistic   = "Sum"
        threshold   = 0
      }
      # An upload event received five times without being handled: the member's attachment stays pending,
      # and the upload itself is deleted by the lifecycle after upload_days.
      media-dead-letters = {
        description = "Upload events are in the media dead-letter queue: attachments the processor never handled stay pending. Look at them and the processor's logs, fix the cause, redrive within a day (while the uploads exist)."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.media_dead_letter[0].name }
        statistic   = "Maximum"
        threshold   = 0
      }
      # A member waits for their photo while its event waits here: nothing is receiving (the mapping is off,
      # the function cannot start), maximum_concurrency is too low for the load, or an item failed and came
      # back after the visibility timeout.
      media-queue-age = {
        description = "The media queue's oldest upload event is older than 5 minutes: the processor is not keeping up, not receiving, or retrying failed uploads."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateAgeOfOldestMessage"
        dimensions  = { QueueName = aws_sqs_queue.media[0].name }
        statistic   = "Maximum"
        threshold   = local.media_queue_age_alarm_seconds
      }
    } : {},
    local.retention ? {
      # A pass that failed (the store refused, a timeout, a bug, a configuration it could not start with):
      # it is not retried, so one is worth telling; the next hour's pass tries again. A pass that ran out of
      # time and left work for the next one (complete false) is no error.
      retention-errors = {
        description = "The retention job failed a pass (crash, timeout, a store error or bad configuration): the chat of ended bookings past their retention is kept until a pass succeeds."
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = { FunctionName = module.retention_function[0].function_name }
        statistic   = "Sum"
        threshold   = 0
      }
      # The scheduler could not invoke the job, after its retries: a dead-letter event names the error
      # Lambda answered (the role's permission, the function gone, throttling).
      retention-dead-letters = {
        description = "The scheduler could not invoke the retention job (dead-letter events in its queue): look at them for Lambda's error; no pass ran for those hours."
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.retention_dead_letter[0].name }
        statistic   = "Maximum"
        threshold   = 0
      }
    } : {},
    local.web_push ? {
      # Pushes the notifier gave up on: printed as PushFailed beside PushSent and PushGone (subscriptions a
      # push service answered 404 or 410 for, which it removes: expected as browsers drop them, not counted
      # here), in the namespace and with the Stage of the other metrics. A push service refuses or delays
      # some pushes in the ordinary course (429, 5xx, a browser's stale subscription), so a few are no
      # news: more than failed_alarm_threshold in 15 minutes is.
      push-failed = {
        description = "Web Push notifications failed (push services refused them or could not be reached; gone subscriptions are not counted): members' browsers were not told of unread messages."
        namespace   = var.metrics_namespace
        metric_name = "PushFailed"
        dimensions  = local.emf_dimensions
        statistic   = "Sum"
        period      = 900
        threshold   = var.web_push.failed_alarm_threshold
      }
      # Of those, the ones a push service refused with 401 or 403: it does not accept the VAPID key (a
      # rotated or mistyped key pair), and will refuse every push until it is fixed. One is enough. The
      # period is the default's, written out: both alarms of this map need the same attributes, or the
      # map and {} have no common type.
      push-unauthorized = {
        description = "A push service refused the VAPID key (401/403): it will refuse every push until the key pair is fixed."
        namespace   = var.metrics_namespace
        metric_name = "PushUnauthorized"
        dimensions  = local.emf_dimensions
        statistic   = "Sum"
        period      = 300
        threshold   = 0
      }
    } : {},
  )

  # Each table, and what fails when it throttles.
  tables = merge(
    { connections = { name = module.connections_table.name, serving = "connects, messages or fan-outs" } },
    local.chat_table ? { chat = { name = module.chat_table[0].name, serving = "messages, history or booking changes" } } : {},
  )

  # Alarms on an expression over summed metrics, by the end of their name: the expression is `id`, each
  # metric is its key.
  expression_alarms = merge(
    {
      # Every missing, malformed, forged or expired token makes the $connect authorizer fail with
      # `Unauthorized`, which API Gateway answers with 401 and Lambda counts in the proxy's Errors; for each,
      # the proxy prints HandshakesUnauthorized (lambda/src/handler.rs) in its namespace with its Stage.
      # Each side is FILLed with 0, so errors alone alarm, and refusals alone do not.
      proxy-errors = {
        description = "The proxy function failed (crash, timeout or unhandled error; refused tokens are left out): connects or messages are lost."
        id          = "failures"
        expression  = "FILL(errors, 0) - FILL(unauthorized, 0)"
        label       = "Errors other than refused tokens"
        metrics = {
          errors       = { namespace = "AWS/Lambda", metric_name = "Errors", dimensions = local.proxy_dimensions }
          unauthorized = { namespace = var.metrics_namespace, metric_name = "HandshakesUnauthorized", dimensions = local.emf_dimensions }
        }
      }
    },
    # DynamoDB publishes ThrottledRequests per table *and* operation, the read and write throttle events per
    # table. A metric has no datapoint in a period without throttling, and `reads + writes` is then empty
    # too even when the other side throttled: FILL makes each side 0 where it has no data.
    { for key, table in local.tables : "${key}-throttled" => {
      description = "Requests to the ${key} table are throttled: ${table.serving} are failing."
      id          = "throttled"
      expression  = "FILL(reads, 0) + FILL(writes, 0)"
      label       = "Throttle events"
      metrics = {
        reads  = { namespace = "AWS/DynamoDB", metric_name = "ReadThrottleEvents", dimensions = { TableName = table.name } }
        writes = { namespace = "AWS/DynamoDB", metric_name = "WriteThrottleEvents", dimensions = { TableName = table.name } }
      }
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each = local.metric_alarms

  alarm_name          = try(each.value.alarm_name, "${local.name}-${each.key}")
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = startswith(each.value.statistic, "p") ? null : each.value.statistic
  extended_statistic  = startswith(each.value.statistic, "p") ? each.value.statistic : null
  period              = try(each.value.period, 300)
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "expression" {
  for_each = local.expression_alarms

  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = each.value.id
    expression  = each.value.expression
    label       = each.value.label
    return_data = true
  }

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id = metric_query.key
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.metric_name
        stat        = "Sum"
        period      = 300
        dimensions  = metric_query.value.dimensions
      }
    }
  }
}

# The retention job has not completed a pass in three hours, three schedules: invocations minus errors, over
# one 3-hour period, below 1. Unlike the others it watches for something missing, so a period without data
# (nothing invoked it at all: the schedule disabled or deleted, its role broken) breaches. Right after
# retention is first turned on it fires once, until the first pass within the hour, and clears.
resource "aws_cloudwatch_metric_alarm" "retention_stalled" {
  count = local.retention ? 1 : 0

  alarm_name          = "${local.name}-retention-stalled"
  alarm_description   = "The retention job has not completed a pass in 3 hours: the schedule is off, cannot invoke it, or every pass fails. The chat of ended bookings past their retention is kept meanwhile."
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "passes"
    expression  = "FILL(invocations, 0) - FILL(errors, 0)"
    label       = "Passes completed"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { invocations = "Invocations", errors = "Errors" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/Lambda"
        metric_name = metric_query.value
        stat        = "Sum"
        period      = local.retention_stalled_alarm_period
        dimensions  = { FunctionName = module.retention_function[0].function_name }
      }
    }
  }
}

# Each alarm was once its module's; the state follows them here (the names are unchanged, but for the
# fan-out's, which was the proxy's alone).
moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.function["errors"]
  to   = module.proxy_function.aws_cloudwatch_metric_alarm.errors
}

moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.function["throttles"]
  to   = module.proxy_function.aws_cloudwatch_metric_alarm.throttles
}

moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.expression["proxy-errors"]
}

moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.throttles
  to   = aws_cloudwatch_metric_alarm.metric["proxy-throttles"]
}

moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.duration
  to   = aws_cloudwatch_metric_alarm.metric["proxy-duration"]
}

moved {
  from = module.proxy_function.aws_cloudwatch_metric_alarm.fanout_failed
  to   = aws_cloudwatch_metric_alarm.metric["fanout-failed"]
}

moved {
  from = module.backend_function[0].aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.metric["backend-errors"]
}

moved {
  from = module.backend_function[0].aws_cloudwatch_metric_alarm.throttles
  to   = aws_cloudwatch_metric_alarm.metric["backend-throttles"]
}

moved {
  from = module.backend_function[0].aws_cloudwatch_metric_alarm.duration
  to   = aws_cloudwatch_metric_alarm.metric["backend-duration"]
}

moved {
  from = module.websocket_api.aws_cloudwatch_metric_alarm.execution_errors
  to   = aws_cloudwatch_metric_alarm.metric["execution-errors"]
}

moved {
  from = module.http_api[0].aws_cloudwatch_metric_alarm.server_errors
  to   = aws_cloudwatch_metric_alarm.metric["http-5xx"]
}

moved {
  from = module.connections_table.aws_cloudwatch_metric_alarm.throttled
  to   = aws_cloudwatch_metric_alarm.expression["connections-throttled"]
}

moved {
  from = module.chat_table[0].aws_cloudwatch_metric_alarm.throttled
  to   = aws_cloudwatch_metric_alarm.expression["chat-throttled"]
}
