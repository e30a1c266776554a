# Email notifications (notifications.tf) with a mocked AWS provider: off by default, with nothing of them
# planned; on, a queue with its dead-letter queue, both encrypted, fed by a rule on the chat events' bus
# that only EventBridge may use, consumed by the notifier through an event source mapping that reports
# failed items; the notifier's contract (environment, secrets) and its permissions, scoped to its queue, its
# SES identity and the chat table; the backend checking the same link secret; the alarms; the refusals.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

override_resource {
  target          = module.chat_table[0].aws_dynamodb_table.this
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"
  }
}

override_resource {
  target          = aws_cloudwatch_event_bus.chat_events[0]
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"
  }
}

override_resource {
  target          = module.http_api[0].aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target          = aws_sqs_queue.notifications[0]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications"
  }
}

override_resource {
  target          = aws_sqs_queue.notifications_dead_letter[0]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications-dlq"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications-dlq"
  }
}

override_resource {
  target          = aws_cloudwatch_event_rule.notifications[0]
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:rule/booking-chat-test/booking-chat-test-notifications"
  }
}

override_resource {
  target          = module.notifier_function[0].aws_lambda_alias.this
  override_during = plan
  values = {
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-notifier:live"
  }
}

variables {
  cors_allowed_origins             = ["https://app.booking.internal"]
  environment                      = "test"
  proxy_secret_ssm_parameter_name  = "/booking-chat/test/proxy-secret"
  jwt_secret_ssm_parameter_name    = "/booking-chat/test/jwt-secret"
  service_token_ssm_parameter_name = "/booking-chat/test/service-token"
  lambda_package_path              = "main.tf" # any file: the plan only hashes it
  backend_package_path             = "outputs.tf"
  throttling_burst_limit           = 50
  throttling_rate_limit            = 25
  log_retention_days               = 7
  table_deletion_protection        = false
}

run "notifications_are_off_by_default_and_nothing_of_them_is_planned" {
  command = plan

  assert {
    condition = (length(aws_sqs_queue.notifications) == 0 && length(aws_sqs_queue.notifications_dead_letter) == 0
      && length(aws_cloudwatch_event_rule.notifications) == 0 && length(aws_lambda_event_source_mapping.notifications) == 0
    && length(module.notifier_function) == 0 && length(aws_sqs_queue_policy.notifications) == 0)
    error_message = "no queue, no rule, no notifier function, no event source mapping"
  }
  assert {
    condition = (output.notifications_queue_url == null && output.notifications_queue_arn == null
      && output.notifications_dead_letter_queue_arn == null && output.notifier_function_name == null
    && output.notifier_policy_json == null && output.notifier_environment == null)
    error_message = "null outputs"
  }
  assert {
    condition     = !anytrue([for key in keys(output.backend_environment) : startswith(key, "NOTIFY_")])
    error_message = "the backend checks no unsubscribe links"
  }
  assert {
    condition     = length([for key in keys(aws_cloudwatch_metric_alarm.metric) : key if strcontains(key, "notif")]) == 0
    error_message = "no alarms on notifications nobody sends"
  }
}

run "notifications_need_a_link_secret" {
  command = plan
  variables {
    notifications         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notifier_package_path = "variables.tf"
  }
  expect_failures = [var.notify_link_secret_secrets_manager_arn]
}

run "a_link_secret_without_notifications_is_refused" {
  command = plan
  variables {
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
  }
  expect_failures = [var.notify_link_secret_secrets_manager_arn]
}

run "a_notifier_package_without_notifications_is_refused" {
  command = plan
  variables {
    notifier_package_path = "variables.tf"
  }
  expect_failures = [var.notifier_package_path]
}

# From here on, notifications are on with their defaults (a delay of 180 s, 900 s between emails, a
# maximum concurrency of 2), as the roots pass them.

run "the_queue_has_a_dead_letter_queue_and_both_are_encrypted" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition = (aws_sqs_queue.notifications[0].name == "booking-chat-test-notifications"
    && aws_sqs_queue.notifications_dead_letter[0].name == "booking-chat-test-notifications-dlq")
    error_message = "a queue and its dead-letter queue, named after the environment"
  }
  assert {
    condition     = aws_sqs_queue.notifications[0].sqs_managed_sse_enabled && aws_sqs_queue.notifications_dead_letter[0].sqs_managed_sse_enabled
    error_message = "both encrypted at rest with SQS-managed keys (they hold chat events, message text included)"
  }
  assert {
    condition = jsondecode(aws_sqs_queue.notifications[0].redrive_policy) == {
      deadLetterTargetArn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications-dlq"
      maxReceiveCount     = 5
    }
    error_message = "what is received five times without being handled goes to the dead-letter queue"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_redrive_allow_policy.notifications_dead_letter[0].redrive_allow_policy) == {
      redrivePermission = "byQueue"
      sourceQueueArns   = ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"]
    }
    error_message = "only the notifications queue may dead-letter into it"
  }
  assert {
    condition     = aws_sqs_queue.notifications_dead_letter[0].message_retention_seconds == 1209600
    error_message = "dead letters are kept 14 days, SQS's longest"
  }
  assert {
    condition     = aws_sqs_queue.notifications[0].visibility_timeout_seconds >= 6 * local.notifier_timeout_seconds && module.notifier_function[0].function_name == "booking-chat-test-notifier"
    error_message = "a visibility timeout of at least six times the notifier's timeout (Lambda's advice for an SQS event source)"
  }
  assert {
    condition = (output.notifications_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications"
      && output.notifications_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"
      && output.notifications_dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications-dlq"
    && output.notifier_function_name == "booking-chat-test-notifier")
    error_message = "the queues and the function are outputs, for aws sqs and aws lambda commands"
  }
}

run "a_rule_on_the_chat_events_bus_sends_new_messages_to_the_queue_and_only_it_may" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition = (aws_cloudwatch_event_rule.notifications[0].event_bus_name == "booking-chat-test"
    && jsondecode(aws_cloudwatch_event_rule.notifications[0].event_pattern) == { source = ["booking-chat"], "detail-type" = ["message.created"] })
    error_message = "the rule is on the chat events' bus and matches message.created of source booking-chat, nothing else"
  }
  assert {
    condition = (aws_cloudwatch_event_target.notifications[0].arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"
      && aws_cloudwatch_event_target.notifications[0].event_bus_name == "booking-chat-test"
    && one(aws_cloudwatch_event_target.notifications[0].dead_letter_config[*].arn) == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications-dlq")
    error_message = "its target is the queue, and what EventBridge cannot deliver goes to the dead-letter queue"
  }
  assert {
    condition = alltrue([for key, queue in { queue = "booking-chat-test-notifications", dead_letter = "booking-chat-test-notifications-dlq" } :
      jsondecode(aws_sqs_queue_policy.notifications[key].policy).Statement == [{
        Sid       = "ChatEventsRule"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = "arn:aws:sqs:eu-west-1:123456789012:${queue}"
        Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/booking-chat-test/booking-chat-test-notifications" } }
    }]])
    error_message = "EventBridge may send to each queue for this rule only, and nobody else is granted anything"
  }
}

run "the_notifier_consumes_the_queue_reporting_failed_items" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition = (aws_lambda_event_source_mapping.notifications[0].event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"
    && aws_lambda_event_source_mapping.notifications[0].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-notifier:live")
    error_message = "the queue invokes the notifier's alias, the version this apply published"
  }
  assert {
    condition = (aws_lambda_event_source_mapping.notifications[0].batch_size == 10
    && aws_lambda_event_source_mapping.notifications[0].function_response_types == toset(["ReportBatchItemFailures"]))
    error_message = "batches of 10, and the function reports which items failed (only those are received again)"
  }
  assert {
    condition     = one(aws_lambda_event_source_mapping.notifications[0].scaling_config[*].maximum_concurrency) == 2
    error_message = "a maximum concurrency, 2 by default"
  }
}

run "the_notifiers_environment_is_its_contract" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition = output.notifier_environment == tomap({
      APP_ENV                          = "test"
      LOG_FORMAT                       = "json"
      RUST_LOG                         = "info"
      METRICS_NAMESPACE                = "BookingChat"
      STAGE                            = "test"
      AWS_TIMEOUT_MS                   = "3000"
      CHAT_STORE                       = "dynamodb"
      CHAT_TABLE                       = "booking-chat-test-chat"
      NOTIFY_QUEUE_URL                 = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-notifications"
      NOTIFY_DELAY_SECONDS             = "180"
      NOTIFY_MIN_INTERVAL_SECONDS      = "900"
      MAIL_FROM                        = "Booking chat <chat@booking.internal>"
      APP_BOOKING_URL                  = "https://app.booking.internal/bookings/{booking_id}/chat"
      PUBLIC_API_URL                   = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
      NOTIFY_LINK_SECRET_SSM_PARAMETER = "/booking-chat/test/notify-link-secret"
    })
    error_message = "exactly the notifier's contract: the chat store as the backend's, its queue, its waits, what it sends and links to, the link secret by name (no SES_CONFIGURATION_SET without one)"
  }
  assert {
    condition     = output.backend_environment["NOTIFY_LINK_SECRET_SSM_PARAMETER"] == "/booking-chat/test/notify-link-secret"
    error_message = "the backend reads the same link secret, to check the unsubscribe links"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "SecretParameters"
    && contains(s.Resource, "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/notify-link-secret")])
    error_message = "and may read it"
  }
  assert {
    condition     = output.notifier_environment["METRICS_NAMESPACE"] == output.backend_environment["METRICS_NAMESPACE"] && output.notifier_environment["STAGE"] == output.backend_environment["STAGE"]
    error_message = "its metrics land in the backend's namespace, with the same Stage"
  }
}

run "the_notifier_may_do_exactly_what_its_contract_says" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition     = [for s in jsondecode(output.notifier_policy_json).Statement : s.Sid] == ["OwnLogs", "ChatTable", "NotificationsQueue", "SendEmail", "SecretParameters", "Tracing"]
    error_message = "these statements and no other (no connections table, no Management API, no EventBridge, no VPC, no KMS without a key)"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "NotificationsQueue"] == [[
      ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"],
      ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications"],
    ]]
    error_message = "receive, delete, change visibility, read attributes (the event source mapping) and send (delays), on the notifications queue only"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.notifier_policy_json).Statement : contains(s.Resource, "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-notifications-dlq")])
    error_message = "nothing on the dead-letter queue: SQS moves messages there itself"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "SendEmail"] == [[
      ["ses:SendEmail", "ses:SendRawEmail"], ["arn:aws:ses:eu-west-1:123456789012:identity/booking.internal"],
    ]]
    error_message = "SES v2 SendEmail (ses:SendRawEmail for Raw content) as the SES identity only"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "ChatTable"] == [[
      ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"],
    ]]
    error_message = "item reads, Query, and conditional Put and Delete of its items, on the chat table only (no index)"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : s.Resource if s.Sid == "SecretParameters"] == [[
      "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/notify-link-secret",
    ]]
    error_message = "it reads the link secret, and no other"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(output.notifier_policy_json).Statement :
    [for a in s.Action : !strcontains(a, "*") && !strcontains(lower(a), "scan")]]))
    error_message = "no wildcard action, no Scan"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.notifier_policy_json).Statement : s.Sid == "Tracing" || !anytrue([for r in s.Resource : strcontains(r, "*") && !endswith(r, ":*")])])
    error_message = "no wildcard resource but X-Ray's and its own log streams'"
  }
}

run "a_configuration_set_is_named_and_allowed" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@mail.booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal", configuration_set = "booking-chat-test" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }

  assert {
    condition     = output.notifier_environment["SES_CONFIGURATION_SET"] == "booking-chat-test" && output.notifier_environment["MAIL_FROM"] == "chat@mail.booking.internal"
    error_message = "SES_CONFIGURATION_SET names it; a subdomain's address of the identity is accepted"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : s.Resource if s.Sid == "SendEmail"] == [[
      "arn:aws:ses:eu-west-1:123456789012:identity/booking.internal",
      "arn:aws:ses:eu-west-1:123456789012:configuration-set/booking-chat-test",
    ]]
    error_message = "SendEmail is authorised on the configuration set too, and on that one only"
  }
}

run "waits_concurrency_and_secrets_manager_are_passed_through" {
  command = plan
  variables {
    notifications                          = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "chat@booking.internal", delay_seconds = 60, min_interval_seconds = 3600, maximum_concurrency = 5 }
    notify_link_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/notify-link-AbCdEf"
    notifier_package_path                  = "variables.tf"
  }

  assert {
    condition     = output.notifier_environment["NOTIFY_DELAY_SECONDS"] == "60" && output.notifier_environment["NOTIFY_MIN_INTERVAL_SECONDS"] == "3600"
    error_message = "the delay and the interval reach the notifier"
  }
  assert {
    condition     = one(aws_lambda_event_source_mapping.notifications[0].scaling_config[*].maximum_concurrency) == 5
    error_message = "the maximum concurrency reaches the event source mapping"
  }
  assert {
    condition = (output.notifier_environment["NOTIFY_LINK_SECRET_SECRETS_MANAGER_ID"] == var.notify_link_secret_secrets_manager_arn
      && output.backend_environment["NOTIFY_LINK_SECRET_SECRETS_MANAGER_ID"] == var.notify_link_secret_secrets_manager_arn
      && anytrue([for s in jsondecode(output.notifier_policy_json).Statement : s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == [var.notify_link_secret_secrets_manager_arn]])
    && !anytrue([for s in jsondecode(output.notifier_policy_json).Statement : contains(s.Action, "ssm:GetParameter")]))
    error_message = "both functions read the Secrets Manager secret, and the notifier no SSM parameter"
  }
  assert {
    condition     = [for s in jsondecode(output.notifier_policy_json).Statement : s.Resource if s.Sid == "SendEmail"] == [["arn:aws:ses:eu-west-1:123456789012:identity/chat@booking.internal"]]
    error_message = "an address identity is named as such"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].threshold == 960
    error_message = "the age alarm follows the delay: 900 s + 60 s"
  }
}

run "the_unsubscribe_links_point_at_the_http_apis_custom_domain" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    http_domain_name                      = "api.booking.internal"
    http_certificate_arn                  = "arn:aws:acm:eu-west-1:123456789012:certificate/5678abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = output.notifier_environment["PUBLIC_API_URL"] == "https://api.booking.internal"
    error_message = "PUBLIC_API_URL is the HTTP API's custom domain when it has one"
  }
}

run "with_postgres_the_notifier_reads_the_database_in_the_backends_subnets" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    chat_store                            = "postgres"
    database_url_ssm_parameter_name       = "/booking-chat/test/database-url"
    vpc_subnet_ids                        = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    vpc_security_group_ids                = ["sg-0123456789abcdef0"]
  }

  assert {
    condition = (output.notifier_environment["CHAT_STORE"] == "postgres" && output.notifier_environment["DATABASE_URL_SSM_PARAMETER"] == "/booking-chat/test/database-url"
    && output.notifier_environment["DATABASE_MAX_CONNECTIONS"] == "2" && !contains(keys(output.notifier_environment), "CHAT_TABLE"))
    error_message = "the database URL by name and the backend's pool size, no chat table"
  }
  assert {
    condition = (anytrue([for s in jsondecode(output.notifier_policy_json).Statement : s.Sid == "VpcNetworkInterfaces"])
    && !anytrue([for s in jsondecode(output.notifier_policy_json).Statement : s.Sid == "ChatTable"]))
    error_message = "its network interfaces in the VPC, and no DynamoDB"
  }
}

# The alarms (alarms.tf).

run "notifications_alarm_on_dead_letters_errors_failures_and_a_stalled_queue" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    alarm_topic_arn                       = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].alarm_name == "booking-chat-test-notifications-dead-letters"
      && aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].dimensions == tomap({ QueueName = "booking-chat-test-notifications-dlq" })
      && aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].statistic == "Maximum"
    && aws_cloudwatch_metric_alarm.metric["notifications-dead-letters"].threshold == 0)
    error_message = "any message in the dead-letter queue alarms"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["notifier-errors"].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.metric["notifier-errors"].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.metric["notifier-errors"].dimensions == tomap({ FunctionName = "booking-chat-test-notifier" })
    && aws_cloudwatch_metric_alarm.metric["notifier-errors"].threshold == 0)
    error_message = "any error of the notifier function alarms (failed items are reported, not errors)"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["notifications-failed"].namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.metric["notifications-failed"].metric_name == "NotificationsFailed"
      && aws_cloudwatch_metric_alarm.metric["notifications-failed"].dimensions == aws_cloudwatch_metric_alarm.metric["fanout-failed"].dimensions
    && aws_cloudwatch_metric_alarm.metric["notifications-failed"].statistic == "Sum" && aws_cloudwatch_metric_alarm.metric["notifications-failed"].threshold == 0)
    error_message = "NotificationsFailed in the functions' namespace, with the Stage of the other metrics: any failed email alarms"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].metric_name == "ApproximateAgeOfOldestMessage"
      && aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].dimensions == tomap({ QueueName = "booking-chat-test-notifications" })
      && aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].statistic == "Maximum"
    && aws_cloudwatch_metric_alarm.metric["notifications-queue-age"].threshold == 1080)
    error_message = "the queue's oldest message older than the longest delay (900 s) plus the notification delay (180 s) alarms: its age counts its delay"
  }
  assert {
    condition = alltrue([for key in ["notifications-dead-letters", "notifier-errors", "notifications-failed", "notifications-queue-age"] :
      aws_cloudwatch_metric_alarm.metric[key].period == 300 && aws_cloudwatch_metric_alarm.metric[key].evaluation_periods == 1
    && aws_cloudwatch_metric_alarm.metric[key].alarm_actions == toset([var.alarm_topic_arn])])
    error_message = "like every alarm: the first 5-minute period above the threshold, told to the topic"
  }
}

# Refused at plan time.

run "notifications_without_chat_events_are_refused" {
  command = plan
  variables {
    chat_events                           = false
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "notifications_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    cors_allowed_origins                  = []
    backend_url                           = "https://chat-backend.internal"
    backend_package_path                  = null
    jwt_secret_ssm_parameter_name         = null
    service_token_ssm_parameter_name      = null
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_booking_url_without_the_booking_id_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/bookings", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_from_address_outside_the_ses_identity_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@other.internal>", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_lookalike_domain_is_not_a_subdomain" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@notbooking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_delay_longer_than_sqs_allows_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal", delay_seconds = 901 }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_maximum_concurrency_below_lambdas_minimum_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal", maximum_concurrency = 1 }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "notifications_without_the_notifier_package_are_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
  }
  expect_failures = [var.notifier_package_path]
}
