# Web Push (web_push, with notifications) with a mocked AWS provider: off unless asked, and then the
# notifier's contract (the VAPID private key by name, the subject, the TTL, the push services' hosts), the
# backend's (the public key, the same hosts), the public key to the notifier too (it checks the pair at
# start), who may read the private key (the notifier alone), the push-failed and push-unauthorized alarms,
# and the refusals.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
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
  target          = module.http_api[0].aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
  }
}

# Email notifications on throughout, as Web Push needs them; Web Push itself is set by each run.
variables {
  cors_allowed_origins                  = ["https://app.booking.internal"]
  environment                           = "test"
  proxy_secret_ssm_parameter_name       = "/booking-chat/test/proxy-secret"
  jwt_secret_ssm_parameter_name         = "/booking-chat/test/jwt-secret"
  service_token_ssm_parameter_name      = "/booking-chat/test/service-token"
  lambda_package_path                   = "main.tf" # any file: the plan only hashes it
  backend_package_path                  = "outputs.tf"
  notifier_package_path                 = "variables.tf"
  throttling_burst_limit                = 50
  throttling_rate_limit                 = 25
  log_retention_days                    = 7
  table_deletion_protection             = false
  notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
  notify_link_secret_ssm_parameter_name = "/booking-chat/test/notify-link-secret"
}

run "without_web_push_neither_function_hears_of_it" {
  command = plan

  assert {
    condition = !anytrue([for key in concat(keys(output.notifier_environment), keys(output.backend_environment)) :
    startswith(key, "VAPID_") || startswith(key, "PUSH_")])
    error_message = "no VAPID key, subject, TTL or push hosts in either function's environment"
  }
  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.metric), "push-failed") && !contains(keys(aws_cloudwatch_metric_alarm.metric), "push-unauthorized")
    error_message = "no alarm on pushes nobody sends"
  }
}

run "the_notifier_signs_with_the_private_key_by_name_and_both_functions_get_the_public_key" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
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
      VAPID_PRIVATE_KEY_SSM_PARAMETER  = "/booking-chat/test/vapid-private-key"
      VAPID_SUBJECT                    = "mailto:ops@booking.internal"
      VAPID_PUBLIC_KEY                 = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs"
      PUSH_TTL_SECONDS                 = "86400"
    })
    error_message = "the email contract plus the VAPID private key by name, the public key, the subject and a TTL of a day; no PUSH_ENDPOINT_HOSTS without endpoint_hosts (the notifier's built-in push services)"
  }
  assert {
    condition = (output.backend_environment["VAPID_PUBLIC_KEY"] == var.web_push.public_key
      && length([for key in keys(output.backend_environment) : key if startswith(key, "VAPID_PRIVATE_KEY")]) == 0
    && !contains(keys(output.backend_environment), "PUSH_ENDPOINT_HOSTS"))
    error_message = "the backend gives browsers the public key, and never hears of the private one"
  }
  assert {
    condition     = !contains(keys(output.notifier_environment), "VAPID_PRIVATE_KEY") && lookup(output.notifier_environment, "VAPID_PUBLIC_KEY", null) == output.backend_environment["VAPID_PUBLIC_KEY"]
    error_message = "the private key travels by name only (the notifier reads its value at start); the notifier gets the public key the backend gives browsers, and refuses to start if the private key is not its other half"
  }
  assert {
    condition = [for s in jsondecode(output.notifier_policy_json).Statement : s.Resource if s.Sid == "SecretParameters"] == [[
      "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/notify-link-secret",
      "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/vapid-private-key",
    ]]
    error_message = "the notifier may read the link secret and the VAPID private key, and no other parameter"
  }
  assert {
    condition = !anytrue([for s in jsondecode(output.backend_policy_json).Statement :
    anytrue([for r in s.Resource : strcontains(r, "vapid-private-key")])])
    error_message = "the backend may not read the private key"
  }
  assert {
    condition     = [for s in jsondecode(output.notifier_policy_json).Statement : s.Sid] == ["OwnLogs", "ChatTable", "NotificationsQueue", "SendEmail", "SecretParameters", "Tracing"]
    error_message = "Web Push adds no statement: the pushes go to the push services over HTTPS, outside IAM"
  }
}

run "the_push_services_hosts_and_the_ttl_reach_both_functions" {
  command = plan
  variables {
    web_push = {
      public_key     = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs"
      subject        = "https://app.booking.internal/contact"
      endpoint_hosts = ["fcm.googleapis.com", "updates.push.services.mozilla.com", "push.booking.net"]
      ttl_seconds    = 3600
    }
    vapid_private_key_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/vapid-private-key-AbCdEf"
  }

  assert {
    condition = (output.notifier_environment["PUSH_ENDPOINT_HOSTS"] == "fcm.googleapis.com,updates.push.services.mozilla.com,push.booking.net"
    && output.backend_environment["PUSH_ENDPOINT_HOSTS"] == output.notifier_environment["PUSH_ENDPOINT_HOSTS"])
    error_message = "the hosts, comma-separated, the same in both functions: the backend accepts subscriptions for the services the notifier may POST to"
  }
  assert {
    condition     = output.notifier_environment["PUSH_TTL_SECONDS"] == "3600" && output.notifier_environment["VAPID_SUBJECT"] == "https://app.booking.internal/contact"
    error_message = "the TTL and an https subject reach the notifier"
  }
  assert {
    condition = (output.notifier_environment["VAPID_PRIVATE_KEY_SECRETS_MANAGER_ID"] == var.vapid_private_key_secrets_manager_arn
      && [for s in jsondecode(output.notifier_policy_json).Statement : s.Resource if s.Sid == "SecretsManagerSecrets"] == [[var.vapid_private_key_secrets_manager_arn]]
    && !contains(keys(output.notifier_environment), "VAPID_PRIVATE_KEY_SSM_PARAMETER"))
    error_message = "the notifier reads the Secrets Manager secret, and may read that one only"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.backend_policy_json).Statement : contains(s.Resource, var.vapid_private_key_secrets_manager_arn)])
    error_message = "the backend may not read the private key"
  }
}

run "a_customer_managed_key_decrypts_the_private_key_as_the_other_secrets" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
    secret_kms_key_arn                   = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = [for s in jsondecode(output.notifier_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "DecryptSecrets"] == [[["kms:Decrypt"], [var.secret_kms_key_arn]]]
    error_message = "kms:Decrypt on the secrets' key, as for the link secret, and nothing more"
  }
}

run "failed_pushes_alarm_over_15_minutes_above_the_threshold_and_a_refused_key_at_once" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
    alarm_topic_arn                      = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
  }

  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["push-failed"].alarm_name == "booking-chat-test-push-failed"
      && aws_cloudwatch_metric_alarm.metric["push-failed"].namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.metric["push-failed"].metric_name == "PushFailed"
      && aws_cloudwatch_metric_alarm.metric["push-failed"].dimensions == aws_cloudwatch_metric_alarm.metric["notifications-failed"].dimensions
    && aws_cloudwatch_metric_alarm.metric["push-failed"].statistic == "Sum")
    error_message = "PushFailed summed, in the functions' namespace with the Stage of the other metrics (PushGone, subscriptions removed, is no failure)"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["push-failed"].period == 900 && aws_cloudwatch_metric_alarm.metric["push-failed"].evaluation_periods == 1
    && aws_cloudwatch_metric_alarm.metric["push-failed"].threshold == 20 && aws_cloudwatch_metric_alarm.metric["push-failed"].comparison_operator == "GreaterThanThreshold")
    error_message = "more than 20 failed pushes in 15 minutes by default: push services refuse a few in the ordinary course"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["push-failed"].alarm_actions == toset([var.alarm_topic_arn]) && aws_cloudwatch_metric_alarm.metric["push-failed"].ok_actions == toset([var.alarm_topic_arn])
    error_message = "told to the topic, like every alarm"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["push-unauthorized"].alarm_name == "booking-chat-test-push-unauthorized"
      && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].metric_name == "PushUnauthorized"
      && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].dimensions == aws_cloudwatch_metric_alarm.metric["notifications-failed"].dimensions
    && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].statistic == "Sum")
    error_message = "PushUnauthorized (pushes a push service refused with 401 or 403) summed, in the functions' namespace with the Stage of the other metrics"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["push-unauthorized"].period == 300 && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].evaluation_periods == 1
    && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].threshold == 0 && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].comparison_operator == "GreaterThanThreshold")
    error_message = "the first refused key alarms, within 5 minutes, whatever failed_alarm_threshold (20 here): the push service will refuse every push until the key pair is fixed"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["push-unauthorized"].alarm_actions == toset([var.alarm_topic_arn]) && aws_cloudwatch_metric_alarm.metric["push-unauthorized"].ok_actions == toset([var.alarm_topic_arn])
    error_message = "told to the topic, like every alarm"
  }
  assert {
    condition = toset([for key in keys(aws_cloudwatch_metric_alarm.metric) : key if strcontains(key, "notif") || strcontains(key, "push")]) == toset([
      "notifier-errors", "notifications-failed", "notifications-dead-letters", "notifications-queue-age", "push-failed", "push-unauthorized",
    ])
    error_message = "two alarms more than the emails' four"
  }
  assert {
    condition     = alltrue([for key, alarm in aws_cloudwatch_metric_alarm.metric : alarm.period == 300 if key != "push-failed"])
    error_message = "every other alarm keeps its 5-minute period"
  }
}

run "the_alarms_threshold_is_the_deployments" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", failed_alarm_threshold = 0 }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["push-failed"].threshold == 0
    error_message = "failed_alarm_threshold = 0: any failed push alarms"
  }
}

# Refused at plan time.

run "web_push_without_notifications_is_refused" {
  command = plan
  variables {
    notifications                         = null
    notify_link_secret_ssm_parameter_name = null
    notifier_package_path                 = null
    web_push                              = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name  = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "web_push_without_its_private_key_is_refused" {
  command = plan
  variables {
    web_push = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
  }
  expect_failures = [var.vapid_private_key_secrets_manager_arn]
}

run "both_references_to_the_private_key_are_refused" {
  command = plan
  variables {
    web_push                              = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name  = "/booking-chat/test/vapid-private-key"
    vapid_private_key_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/vapid-private-key-AbCdEf"
  }
  expect_failures = [var.vapid_private_key_secrets_manager_arn]
}

run "a_private_key_without_web_push_is_refused" {
  command = plan
  variables {
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.vapid_private_key_secrets_manager_arn]
}

run "the_private_key_in_place_of_the_public_key_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "cbz18L_Bd51SmgpHlwaPYq88vEt7zSEuTely2ay9HcA", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_padded_or_standard_base64_public_key_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um/05T2Gaq+hhE2grXrl7/5SpLZgLIY7toVas4gGQDox+K/VpgD4h4ZbfBH7AdNygpubdsPs=", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_subject_that_is_neither_mailto_nor_https_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "an_http_subject_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "http://app.booking.internal/contact" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "an_endpoint_host_given_as_a_url_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", endpoint_hosts = ["https://fcm.googleapis.com"] }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_top_level_domain_or_an_ip_address_as_endpoint_host_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", endpoint_hosts = ["com", "10.0.0.1"] }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "an_empty_list_of_endpoint_hosts_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", endpoint_hosts = [] }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_ttl_beyond_28_days_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", ttl_seconds = 2419201 }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_ttl_of_28_days_is_accepted" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal", ttl_seconds = 2419200 }
    vapid_private_key_ssm_parameter_name = "/booking-chat/test/vapid-private-key"
  }
  assert {
    condition     = output.notifier_environment["PUSH_TTL_SECONDS"] == "2419200"
    error_message = "28 days, the longest FCM keeps a notification"
  }
}
