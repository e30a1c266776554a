# The shared root's refusals and options, with a mocked AWS provider. Run once, from envs/dev (its tests
# link this file): they are the code's, whatever the values, and dev's values are the ones every option
# can be tried on.
mock_provider "aws" {
  source          = "../../terraform/testing/aws"
  override_during = plan
}

variables {
  lambda_package_path  = "main.tf" # any file: the plan only hashes it
  backend_package_path = "backend.tf"
  media_package_path   = "versions.tf"
  cors_allowed_origins = ["https://app.booking.internal"]
}

run "another_environments_name_is_refused" {
  command = plan
  variables {
    environment = "staging"
  }
  expect_failures = [var.environment]
}

run "dev_needs_no_alarm_topic" {
  command = plan
  assert {
    condition     = var.alarm_topic_arn == null
    error_message = "dev's alarms may go without actions (staging and prod must name a topic: protected.tftest.hcl)"
  }
}

run "per_route_metrics_can_be_switched_on" {
  command = plan
  variables {
    detailed_route_metrics = true
  }
  assert {
    condition     = var.detailed_route_metrics
    error_message = "an environment may turn per-route metrics on where someone reads them"
  }
}

run "chat_events_can_be_switched_off" {
  command = plan
  variables {
    chat_events = false
  }
  assert {
    condition     = output.event_bus_name == null && output.event_bus_arn == null && !contains(keys(module.booking_chat.backend_environment), "EVENT_BUS_NAME")
    error_message = "no bus, and a backend that publishes nothing"
  }
}

run "an_archive_of_the_chat_events_can_be_switched_on" {
  command = plan
  variables {
    chat_events_archive_retention_days = 14
  }
  assert {
    condition     = output.event_archive_arn != null
    error_message = "an archive of the bus, for replays"
  }
}

run "an_archive_without_chat_events_is_refused" {
  command = plan
  variables {
    chat_events                        = false
    chat_events_archive_retention_days = 14
  }
  expect_failures = [var.chat_events_archive_retention_days]
}

# Email notifications: off unless asked, and then the notifier, its queue and the link secret of both
# functions (module booking-chat's tests hold the details).

run "notifications_can_be_switched_on" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  assert {
    condition = (output.notifier_function_name == "booking-chat-dev-notifier" && output.notifications_queue_url != null
    && output.notifications_queue_arn != null && output.notifications_dead_letter_queue_arn != null)
    error_message = "the notifier and its queues, named after the environment, as outputs"
  }
  assert {
    condition = (module.booking_chat.notifier_environment["NOTIFY_LINK_SECRET_SSM_PARAMETER"] == "/booking-chat/dev/notify-link-secret"
    && module.booking_chat.backend_environment["NOTIFY_LINK_SECRET_SSM_PARAMETER"] == "/booking-chat/dev/notify-link-secret")
    error_message = "the notifier signs the unsubscribe links with the secret the backend checks them with"
  }
  assert {
    condition     = module.booking_chat.notifier_environment["NOTIFY_DELAY_SECONDS"] == "180" && module.booking_chat.notifier_environment["NOTIFY_MIN_INTERVAL_SECONDS"] == "900"
    error_message = "the defaults of the delay and the interval"
  }
}

run "notifications_without_a_link_secret_are_refused" {
  command = plan
  variables {
    notifications         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notifier_package_path = "variables.tf"
  }
  expect_failures = [var.notify_link_secret_secrets_manager_arn]
}

run "notifications_without_chat_events_are_refused" {
  command = plan
  variables {
    chat_events                           = false
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_placeholder_booking_url_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.example.com/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
  }
  expect_failures = [var.notifications]
}

run "a_link_secret_in_another_region_is_refused" {
  command = plan
  variables {
    notifications                          = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_secrets_manager_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-chat/dev/notify-link-AbCdEf"
    notifier_package_path                  = "variables.tf"
  }
  expect_failures = [var.notify_link_secret_secrets_manager_arn]
}

# Web Push: with notifications, off unless asked; the VAPID private key by name to the notifier, the public
# key to the backend (module booking-chat's tests hold the details).

run "web_push_can_be_switched_on" {
  command = plan
  variables {
    notifications                         = { email_from = "Booking chat <chat@booking.internal>", booking_url = "https://app.booking.internal/bookings/{booking_id}/chat", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    web_push = {
      public_key     = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs"
      subject        = "mailto:ops@booking.internal"
      endpoint_hosts = ["fcm.googleapis.com", "push.booking.net"]
    }
    vapid_private_key_ssm_parameter_name = "/booking-chat/dev/vapid-private-key"
  }
  assert {
    condition = (module.booking_chat.notifier_environment["VAPID_PRIVATE_KEY_SSM_PARAMETER"] == "/booking-chat/dev/vapid-private-key"
      && module.booking_chat.notifier_environment["VAPID_SUBJECT"] == "mailto:ops@booking.internal"
    && module.booking_chat.notifier_environment["PUSH_TTL_SECONDS"] == "86400")
    error_message = "the notifier signs with the private key, read by name, as the subject, a day's TTL by default"
  }
  assert {
    condition = (module.booking_chat.backend_environment["VAPID_PUBLIC_KEY"] == var.web_push.public_key
      && module.booking_chat.backend_environment["PUSH_ENDPOINT_HOSTS"] == "fcm.googleapis.com,push.booking.net"
    && module.booking_chat.notifier_environment["PUSH_ENDPOINT_HOSTS"] == "fcm.googleapis.com,push.booking.net")
    error_message = "the backend gives out the public key, and both functions allow the same push services"
  }
  assert {
    condition = (length([for key in keys(module.booking_chat.backend_environment) : key if startswith(key, "VAPID_PRIVATE_KEY")]) == 0
    && !contains(keys(module.booking_chat.notifier_environment), "VAPID_PRIVATE_KEY"))
    error_message = "the private key's value is in no environment, and the backend is not even told its name"
  }
}

run "web_push_without_notifications_is_refused" {
  command = plan
  variables {
    web_push                             = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
    vapid_private_key_ssm_parameter_name = "/booking-chat/dev/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "web_push_without_its_private_key_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    web_push                              = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@booking.internal" }
  }
  expect_failures = [var.vapid_private_key_secrets_manager_arn]
}

run "a_placeholder_push_subject_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    web_push                              = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "mailto:ops@example.com" }
    vapid_private_key_ssm_parameter_name  = "/booking-chat/dev/vapid-private-key"
  }
  expect_failures = [var.web_push]
}

run "a_vapid_key_secret_in_another_region_is_refused" {
  command = plan
  variables {
    notifications                         = { email_from = "chat@booking.internal", booking_url = "https://app.booking.internal/b/{booking_id}", ses_identity = "booking.internal" }
    notify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"
    notifier_package_path                 = "variables.tf"
    web_push                              = { public_key = "BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs", subject = "https://app.booking.internal/contact" }
    vapid_private_key_secrets_manager_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-chat/dev/vapid-private-key-AbCdEf"
  }
  expect_failures = [var.vapid_private_key_secrets_manager_arn]
}

# The root's own validation (envs/shared/variables.tf): a value that would apply but fail or misbehave on
# AWS is refused at plan time, naming the variable.

run "a_placeholder_backend_url_is_refused" {
  command = plan
  variables {
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    backend_url                      = "https://chat-backend.dev.example.com"
  }
  expect_failures = [var.backend_url]
}

run "a_reserved_test_domain_is_refused" {
  command = plan
  variables {
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    backend_url                      = "https://backend.test/"
  }
  expect_failures = [var.backend_url]
}

run "a_plain_http_backend_url_is_refused" {
  command = plan
  variables {
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    backend_url                      = "http://chat-backend.internal"
  }
  expect_failures = [var.backend_url]
}

run "zero_reserved_concurrency_is_refused" {
  command = plan
  variables {
    lambda_reserved_concurrency = 0
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "a_reservation_reaches_the_plan" {
  command = plan
  variables {
    lambda_reserved_concurrency = 5
  }
  assert {
    condition     = var.lambda_reserved_concurrency == 5
    error_message = "a reservation of at least 1 is accepted"
  }
}

run "a_secret_name_instead_of_its_arn_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "booking-chat/dev/proxy-secret"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_partial_secret_arn_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/dev/proxy"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_secret_in_another_region_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-chat/dev/proxy-AbCdEf"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_complete_secret_arn_is_read_by_the_function" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/dev/proxy-AbCdEf"
  }
  assert {
    condition = anytrue([for s in jsondecode(module.booking_chat.proxy_policy_json).Statement :
    s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == [var.proxy_secret_secrets_manager_arn]])
    error_message = "the function may read exactly that secret"
  }
}

run "the_secrets_kms_key_reaches_the_function" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition = anytrue([for s in jsondecode(module.booking_chat.proxy_policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == [var.secret_kms_key_arn]])
    error_message = "secret_kms_key_arn must reach the function's policy"
  }
}

run "the_architecture_reaches_the_function" {
  command = plan
  variables {
    lambda_architecture = "x86_64"
  }
  assert {
    condition     = output.function_architecture == "x86_64"
    error_message = "lambda_architecture (make's ARCH) must reach the function"
  }
}

run "an_unknown_architecture_is_refused" {
  command = plan
  variables {
    lambda_architecture = "amd64"
  }
  expect_failures = [var.lambda_architecture]
}

# The backend: this environment's function by default, or a URL elsewhere.

run "a_backend_elsewhere_drops_the_backend_function" {
  command = plan
  variables {
    backend_url                      = "https://chat-backend.internal"
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    attachments                      = null
    message_retention_days           = null
  }
  assert {
    condition     = output.backend_function_name == null && output.chat_table_name == null && output.http_api_url == null
    error_message = "no backend function, no chat table and no HTTP API with backend_url"
  }
}

run "the_backends_secrets_and_origins_beside_a_backend_url_are_refused" {
  command = plan
  variables {
    backend_url            = "https://chat-backend.internal"
    attachments            = null
    message_retention_days = null
  }
  expect_failures = [var.jwt_secret_secrets_manager_arn, var.service_token_secrets_manager_arn, var.cors_allowed_origins]
}

# Attachments: on in every environment (the sizing is environment.tftest.hcl's), and then the bucket, the
# processor and the backend's rights (module booking-chat's tests hold the details).

run "attachments_can_be_switched_off" {
  command = plan
  variables {
    attachments = null
  }
  assert {
    condition = (output.attachments_bucket_name == null && output.media_function_name == null && output.media_queue_url == null
    && !contains(keys(module.booking_chat.backend_environment), "FILE_STORE"))
    error_message = "no bucket, no processor, and a backend that keeps no files"
  }
}

run "attachments_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    backend_url                      = "https://chat-backend.internal"
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    message_retention_days           = null
  }
  expect_failures = [var.attachments]
}

run "dev_may_keep_files_without_browser_origins" {
  command = plan
  variables {
    cors_allowed_origins = []
  }
  assert {
    condition     = output.attachments_bucket_name != null && length(module.booking_chat.attachments_allowed_origins) == 0
    error_message = "dev may try attachments without a browser (curl against the form); staging and prod refuse (protected.tftest.hcl)"
  }
}

run "the_rules_and_the_buckets_own_origins_are_passed_through" {
  command = plan
  variables {
    attachments = { max_bytes = 5242880, types = ["image/jpeg"], unreferenced_days = 3, allowed_origins = ["https://chat.booking.internal"] }
  }
  assert {
    condition = (module.booking_chat.backend_environment["ATTACHMENTS_MAX_BYTES"] == "5242880" && module.booking_chat.backend_environment["ATTACHMENTS_TYPES"] == "image/jpeg"
      && module.booking_chat.backend_environment["ATTACHMENTS_PER_MESSAGE"] == "10"
    && module.booking_chat.attachments_allowed_origins == tolist(["https://chat.booking.internal"]))
    error_message = "what is set reaches the module, and what is left out keeps the module's default"
  }
}

run "a_placeholder_bucket_origin_is_refused" {
  command = plan
  variables {
    attachments = { allowed_origins = ["https://chat.example.com"] }
  }
  expect_failures = [var.attachments]
}

# Retention: on in every environment (the days are environment.tftest.hcl's), then the job, its schedule and
# its dead-letter queue (module booking-chat's tests hold the details and the refusals).

run "retention_can_be_switched_off" {
  command = plan
  variables {
    message_retention_days = null
  }
  assert {
    condition     = output.retention_function_name == null && output.retention_dead_letter_queue_url == null && module.booking_chat.retention_schedule_arn == null
    error_message = "no job, no schedule, no queue: the chat is kept"
  }
}

run "the_retention_days_reach_the_job" {
  command = plan
  variables {
    message_retention_days = 45
  }
  assert {
    condition = (module.booking_chat.retention_environment["CHAT_RETENTION_DAYS"] == "45"
      && module.booking_chat.backend_environment["CHAT_RETENTION_DAYS"] == "45"
    && !contains(keys(module.booking_chat.backend_environment), "CHAT_JOB"))
    error_message = "the days given are the job's CHAT_RETENTION_DAYS, and the backend function's for the operator's POST /api/service/retention/run (which is not the job: no CHAT_JOB)"
  }
}

run "retention_with_a_backend_elsewhere_is_refused" {
  command = plan
  variables {
    backend_url                      = "https://chat-backend.internal"
    cors_allowed_origins             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    attachments                      = null
  }
  expect_failures = [var.message_retention_days]
}

# The HTTP API's origins: required with the backend function, never committed, never a placeholder.

run "missing_cors_origins_are_refused_naming_the_variable" {
  command = plan
  variables {
    cors_allowed_origins = null
  }
  expect_failures = [var.cors_allowed_origins]
}

run "no_browser_origins_is_a_choice" {
  command = plan
  variables {
    cors_allowed_origins = []
  }
  assert {
    condition     = output.http_api_url != null
    error_message = "[] deploys the HTTP API without CORS"
  }
}

run "a_placeholder_origin_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = ["https://app.example.com"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "an_origin_with_a_trailing_slash_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = ["https://app.booking.internal/"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "a_jwt_secret_in_another_region_is_refused" {
  command = plan
  variables {
    jwt_secret_ssm_parameter_name  = null
    jwt_secret_secrets_manager_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:booking-chat/dev/jwt-AbCdEf"
  }
  expect_failures = [var.jwt_secret_secrets_manager_arn]
}

run "a_partial_service_token_arn_is_refused" {
  command = plan
  variables {
    service_token_ssm_parameter_name  = null
    service_token_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/dev/service-token"
  }
  expect_failures = [var.service_token_secrets_manager_arn]
}

run "postgres_needs_its_database_url_subnets_and_security_groups" {
  command = plan
  variables {
    chat_store = "postgres"
  }
  expect_failures = [var.database_url_secrets_manager_arn, var.vpc_subnet_ids, var.vpc_security_group_ids]
}

run "postgres_in_the_vpc_drops_the_chat_table" {
  command = plan
  variables {
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/dev/database-url"
    vpc_subnet_ids                  = ["subnet-0a1b2c3d4e5f60718"]
    vpc_security_group_ids          = ["sg-0a1b2c3d4e5f60718"]
  }
  assert {
    condition     = output.chat_table_name == null && output.backend_function_name == "booking-chat-dev-backend"
    error_message = "the backend function without a chat table"
  }
}

run "a_subnet_name_instead_of_its_id_is_refused" {
  command = plan
  variables {
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/dev/database-url"
    vpc_subnet_ids                  = ["private-a"]
    vpc_security_group_ids          = ["sg-0a1b2c3d4e5f60718"]
  }
  expect_failures = [var.vpc_subnet_ids]
}

# Custom domains: optional, each with a certificate from the environment's region.

run "custom_domains_give_their_urls_and_dns_records" {
  command = plan
  variables {
    websocket_domain_name     = "chat.booking.internal"
    websocket_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    http_domain_name          = "api.booking.internal"
    http_certificate_arn      = "arn:aws:acm:eu-west-1:123456789012:certificate/5678abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition     = output.websocket_custom_domain_url == "wss://chat.booking.internal" && output.http_custom_domain_url == "https://api.booking.internal"
    error_message = "the custom domain URLs"
  }
  assert {
    condition     = output.websocket_domain_dns.name == "chat.booking.internal" && output.http_domain_dns.name == "api.booking.internal"
    error_message = "the DNS records to create"
  }
  assert {
    condition     = output.websocket_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/dev"
    error_message = "the execute-api URL stays an output beside the custom domain"
  }
}

run "a_certificate_from_another_region_is_refused" {
  command = plan
  variables {
    websocket_domain_name     = "chat.booking.internal"
    websocket_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.websocket_certificate_arn]
}

run "a_url_as_domain_name_is_refused" {
  command = plan
  variables {
    http_domain_name     = "https://api.booking.internal"
    http_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/5678abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.http_domain_name]
}

# Chat rules: the root passes them through, and what it leaves out module booking-chat fills in (its tests
# hold the refusals).

run "chat_rules_reach_the_backend_and_what_is_left_out_keeps_its_default" {
  command = plan
  variables {
    chat_rules = {
      contact_mask_statuses   = []
      contact_phone_regions   = ["FR", "BE", "CH", "LU"]
      read_only_after_seconds = 2592000
    }
    # Longer than the 30 days writable (dev's 30 would be refused: module booking-chat's tests).
    message_retention_days = 60
  }

  assert {
    condition = (module.booking_chat.backend_environment["CONTACT_MASK_STATUSES"] == "none"
      && module.booking_chat.backend_environment["CONTACT_MASK_KINDS"] == "phone,email,link,handle"
      && module.booking_chat.backend_environment["CONTACT_PHONE_REGIONS"] == "FR,BE,CH,LU"
    && module.booking_chat.backend_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "2592000")
    error_message = "no statuses is none, the kinds left out are all four, the regions and 30 days as given"
  }
  assert {
    condition     = module.booking_chat.retention_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "2592000"
    error_message = "the retention job knows the read-only delay its retention must exceed"
  }
}
