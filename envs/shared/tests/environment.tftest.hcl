# What every environment must be, run by each (envs/<env>/tests links this file) against its own
# terraform.tfvars, with a mocked AWS provider: sized as agreed, its own secrets, logs on, and outputs that
# name its stage and resources. A change to an environment's values is a change here too, on purpose.
mock_provider "aws" {
  source          = "../../terraform/testing/aws"
  override_during = plan
}

override_resource {
  target          = module.booking_chat.module.http_api[0].aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
  }
}

# What each environment's terraform.tfvars deliberately leaves out (README, Deploying).
variables {
  lambda_package_path  = "main.tf" # any file: the plan only hashes it
  backend_package_path = "backend.tf"
  media_package_path   = "versions.tf"
  cors_allowed_origins = ["https://app.booking.internal"]
  alarm_topic_arn      = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
}

run "the_environment_is_sized_for_its_purpose" {
  command = plan

  assert {
    condition     = var.table_deletion_protection == (var.environment != "dev")
    error_message = "deletion protection of both tables everywhere but in dev"
  }
  assert {
    condition     = var.log_retention_days == { dev = 7, staging = 30, prod = 90 }[var.environment]
    error_message = "log retention: 7 days in dev, 30 in staging, 90 in prod"
  }
  assert {
    condition = ([var.throttling_burst_limit, var.throttling_rate_limit]
    == { dev = [50, 25], staging = [200, 100], prod = [1000, 500] }[var.environment])
    error_message = "WebSocket stage throttling (burst, rate): 50/25 in dev, 200/100 in staging, 1000/500 in prod"
  }
  assert {
    condition = ([var.http_throttling_burst_limit, var.http_throttling_rate_limit]
    == { dev = [50, 25], staging = [200, 100], prod = [500, 250] }[var.environment])
    error_message = "HTTP API throttling (burst, rate): 50/25 in dev, 200/100 in staging, 500/250 in prod"
  }
  assert {
    condition = ([var.lambda_memory_size, var.backend_memory_size]
    == { dev = [256, 256], staging = [256, 256], prod = [512, 512] }[var.environment])
    error_message = "memory (proxy, backend): 256/256 MB in dev and staging, 512/512 in prod"
  }
  assert {
    condition     = var.log_sample_rate == { dev = 1, staging = 1, prod = 10 }[var.environment]
    error_message = "log sampling: every line in dev and staging, one invocation's routine lines in 10 in prod"
  }
  assert {
    condition     = coalesce(var.lambda_system_log_level, "text") == { dev = "text", staging = "text", prod = "WARN" }[var.environment]
    error_message = "Lambda's own lines: as text (START, END, REPORT) in dev and staging, its warnings only in prod"
  }
  assert {
    condition     = var.execution_logging_level == { dev = "INFO", staging = "ERROR", prod = "ERROR" }[var.environment]
    error_message = "execution logging: INFO in dev, ERROR in staging and prod"
  }
  assert {
    condition     = var.lambda_reserved_concurrency == null
    error_message = "no reserved concurrency committed: Lambda refuses reservations on accounts with a low concurrency quota"
  }
  assert {
    condition     = var.detailed_route_metrics == false
    error_message = "no per-route metrics (billed as custom metrics) committed: nothing reads them, and the access logs have each route"
  }
  assert {
    condition     = var.chat_events && var.chat_events_archive_retention_days == null
    error_message = "chat events on, without an archive (it would keep chat text, deleted messages' too): the app's rules need the bus in every environment"
  }
  assert {
    condition     = var.notifications == null && output.notifier_function_name == null && output.notifications_queue_url == null
    error_message = "no email notifications committed: they need the deployer's own SES identity, verified in the region (docs/deploying.md, Email notifications)"
  }
  assert {
    condition     = var.web_push == null && var.vapid_private_key_ssm_parameter_name == null && var.vapid_private_key_secrets_manager_arn == null
    error_message = "no Web Push committed: it needs notifications and the deployer's own VAPID key pair"
  }
  assert {
    condition     = alltrue([for rule in values(var.chat_rules) : rule == null])
    error_message = "no chat rules committed: every environment runs the backend's own (docs/deploying.md, Chat rules)"
  }
  assert {
    condition = (var.attachments != null && var.attachments.maximum_concurrency == { dev = 2, staging = 5, prod = 10 }[var.environment]
    && alltrue([for key, value in var.attachments : value == null if key != "maximum_concurrency"]))
    error_message = "attachments on everywhere, the module's defaults but for the processor's concurrency: 2 uploads at once in dev, 5 in staging, 10 in prod"
  }
  assert {
    condition     = var.message_retention_days == { dev = 30, staging = 90, prod = 365 }[var.environment]
    error_message = "the chat of an ended booking kept 30 days in dev, 90 in staging, 365 in prod (the marketplace's decision)"
  }
}

run "the_retention_job_runs_hourly_on_the_environments_store" {
  command = plan

  assert {
    condition = (output.retention_function_name == "booking-chat-${var.environment}-retention"
      && module.booking_chat.retention_environment["CHAT_RETENTION_DAYS"] == tostring(var.message_retention_days)
      && module.booking_chat.retention_environment["CHAT_TABLE"] == "booking-chat-${var.environment}-chat"
    && module.booking_chat.retention_environment["FILE_STORE"] == "s3://booking-chat-${var.environment}-attachments-123456789012")
    error_message = "the job, named after the environment, on its chat table and its attachments' bucket"
  }
  assert {
    condition     = module.booking_chat.retention_schedule_arn != null && output.retention_dead_letter_queue_url != null
    error_message = "its schedule and the schedule's dead-letter queue"
  }
}

run "attachments_are_the_environments_own_with_the_http_apis_origins" {
  command = plan

  assert {
    condition = (output.attachments_bucket_name == "booking-chat-${var.environment}-attachments-123456789012"
      && output.media_function_name == "booking-chat-${var.environment}-media"
    && output.media_queue_url != null && output.media_queue_arn != null && output.media_dead_letter_queue_arn != null)
    error_message = "the bucket, the media processor and its queues, named after the environment"
  }
  assert {
    condition     = module.booking_chat.backend_environment["FILE_STORE"] == "s3://booking-chat-${var.environment}-attachments-123456789012"
    error_message = "the backend signs for that bucket"
  }
  assert {
    condition     = module.booking_chat.attachments_allowed_origins == var.cors_allowed_origins
    error_message = "browsers of the HTTP API's origins may upload and download"
  }
}

run "the_environment_reads_its_own_secrets" {
  command = plan

  assert {
    condition     = var.proxy_secret_ssm_parameter_name == "/booking-chat/${var.environment}/proxy-secret"
    error_message = "the proxy secret is read from the environment's own SSM parameter"
  }
  assert {
    condition = (var.jwt_secret_ssm_parameter_name == "/booking-chat/${var.environment}/jwt-secret"
    && var.service_token_ssm_parameter_name == "/booking-chat/${var.environment}/service-token")
    error_message = "the backend's secrets are the environment's own SSM parameters"
  }
  assert {
    condition     = var.backend_url == null && var.chat_store == "dynamodb"
    error_message = "the environment deploys the backend function on DynamoDB: no URL to fill in"
  }
}

run "the_environment_logs_access_and_execution" {
  command = plan

  assert {
    condition     = var.access_logging && var.execution_logging_level != "OFF"
    error_message = "access and execution logging are on (the account root gives API Gateway its role first)"
  }
}

run "outputs_name_the_stage_and_its_resources" {
  command = plan

  assert {
    condition     = output.websocket_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/${var.environment}"
    error_message = "the stage is named after the environment"
  }
  assert {
    condition     = output.management_endpoint == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/${var.environment}"
    error_message = "the Management API endpoint of the stage"
  }
  assert {
    condition = (output.connections_table_name == "booking-chat-${var.environment}-connections"
    && output.function_name == "booking-chat-${var.environment}-proxy")
    error_message = "resources are named after the environment"
  }
  assert {
    condition     = output.function_alias == "live" && output.function_architecture == "arm64"
    error_message = "API Gateway invokes the alias of an arm64 function by default"
  }
  assert {
    condition = (output.backend_function_name == "booking-chat-${var.environment}-backend"
    && output.chat_table_name == "booking-chat-${var.environment}-chat")
    error_message = "the backend function and its chat table, named after the environment"
  }
  assert {
    condition     = output.backend_function_alias == "live"
    error_message = "the proxy invokes the backend's alias"
  }
  assert {
    condition     = output.http_api_url == "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
    error_message = "the HTTP API's base URL is an output"
  }
  assert {
    condition     = output.event_bus_name == "booking-chat-${var.environment}" && output.event_bus_arn != null
    error_message = "the chat events' bus, named after the environment, for the app's rules"
  }
  assert {
    condition     = module.booking_chat.backend_environment["EVENT_BUS_NAME"] == output.event_bus_name
    error_message = "the backend publishes to that bus"
  }
}

run "the_backend_runs_the_default_chat_rules" {
  command = plan

  assert {
    condition = (module.booking_chat.backend_environment["CONTACT_MASK_STATUSES"] == "requested"
      && module.booking_chat.backend_environment["CONTACT_MASK_KINDS"] == "phone,email,link,handle"
      && module.booking_chat.backend_environment["CONTACT_PHONE_REGIONS"] == "US,GB,FR,DE,ES,IT,NL"
    && module.booking_chat.backend_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "604800")
    error_message = "contact details hidden while a booking is requested, every kind, the marketplace's seven regions, a closed booking's chat writable for 7 days: the code's defaults, spelled out"
  }
}
