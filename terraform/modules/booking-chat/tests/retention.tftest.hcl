# The retention job (retention.tf) with a mocked AWS provider: off by default, with nothing of it planned;
# on, the backend's package as a function of its own (its contract: environment, secrets), its role
# (exactly what a pass does, nothing else), the hourly schedule (its target, input, retries and dead-letter
# queue), the schedule's execution role (invoke that alias, send to that queue), the queue's policy, no
# retry of a failed pass by Lambda, the alarms; and the refusals.
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
  target          = aws_s3_bucket.attachments[0]
  override_during = plan
  values = {
    arn = "arn:aws:s3:::booking-chat-test-attachments-123456789012"
  }
}

override_resource {
  target          = module.retention_function[0].aws_lambda_alias.this
  override_during = plan
  values = {
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-retention:live"
  }
}

override_resource {
  target          = aws_sqs_queue.retention_dead_letter[0]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-retention-dlq"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-retention-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-retention-dlq"
  }
}

override_resource {
  target          = aws_iam_role.retention_scheduler[0]
  override_during = plan
  values = {
    arn = "arn:aws:iam::123456789012:role/booking-chat-test-retention-scheduler"
  }
}

override_resource {
  target          = aws_scheduler_schedule_group.schedules[0]
  override_during = plan
  values = {
    arn = "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/booking-chat-test"
  }
}

override_resource {
  target          = aws_scheduler_schedule.retention[0]
  override_during = plan
  values = {
    arn = "arn:aws:scheduler:eu-west-1:123456789012:schedule/booking-chat-test/booking-chat-test-retention"
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

run "retention_is_off_by_default_and_nothing_of_it_is_planned" {
  command = plan

  assert {
    condition = (length(module.retention_function) == 0 && length(aws_lambda_function_event_invoke_config.retention) == 0
      && length(aws_scheduler_schedule_group.schedules) == 0 && length(aws_scheduler_schedule.retention) == 0
      && length(aws_sqs_queue.retention_dead_letter) == 0 && length(aws_sqs_queue_policy.retention_dead_letter) == 0
    && length(aws_iam_role.retention_scheduler) == 0 && length(aws_iam_role_policy.retention_scheduler) == 0)
    error_message = "no function, no schedule or group, no queue, no scheduler role"
  }
  assert {
    condition = (output.retention_function_name == null && output.retention_policy_json == null && output.retention_environment == null
      && output.retention_schedule_arn == null && output.retention_scheduler_policy_json == null
    && output.retention_dead_letter_queue_url == null && output.retention_dead_letter_queue_arn == null)
    error_message = "null outputs"
  }
  assert {
    condition = (length(aws_cloudwatch_metric_alarm.retention_stalled) == 0
    && length([for key in keys(aws_cloudwatch_metric_alarm.metric) : key if startswith(key, "retention-")]) == 0)
    error_message = "no alarms on a job that does not exist"
  }
  assert {
    condition     = !anytrue([for key in keys(output.backend_environment) : key == "CHAT_RETENTION_DAYS" || key == "CHAT_JOB"])
    error_message = "without retention the backend function has no retention setting (and it is never the job)"
  }
}

# From here on retention is on: 30 days, as dev has it.

run "the_job_is_the_backends_package_as_a_function_of_its_own" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = (module.retention_function[0].function_name == "booking-chat-test-retention"
      && output.retention_function_name == "booking-chat-test-retention"
    && module.retention_function[0].alias_name == "live")
    error_message = "a function of its own, named after the environment, behind its alias live"
  }
  assert {
    condition     = module.retention_function[0].source_code_hash == module.backend_function[0].source_code_hash
    error_message = "the backend function's zip (backend_package_path), no package of its own"
  }
  assert {
    condition = (module.retention_function[0].architecture == "arm64" && module.retention_function[0].memory_size == 256
    && module.retention_function[0].timeout_seconds == 300 && module.retention_function[0].reserved_concurrency == null)
    error_message = "the backend's architecture and memory, five minutes a pass, unreserved"
  }
}

run "the_job_has_the_backends_memory" {
  command = plan
  variables {
    message_retention_days = 30
    backend_memory_size    = 512
  }

  assert {
    condition     = module.retention_function[0].memory_size == 512
    error_message = "backend_memory_size sizes the job too"
  }
}

run "the_jobs_environment_is_its_contract" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = output.retention_environment == tomap({
      APP_ENV                      = "test"
      LOG_FORMAT                   = "json"
      RUST_LOG                     = "info"
      METRICS_NAMESPACE            = "BookingChat"
      STAGE                        = "test"
      CHAT_JOB                     = "retention"
      CHAT_RETENTION_DAYS          = "30"
      CHAT_READ_ONLY_AFTER_SECONDS = "604800"
      CHAT_STORE                   = "dynamodb"
      CHAT_TABLE                   = "booking-chat-test-chat"
      AWS_TIMEOUT_MS               = "3000"
    })
    error_message = "the job, its days, the read-only delay it must exceed, the chat store as the backend's: no secret, no connections table, no Management API, no bus"
  }
  assert {
    condition = alltrue([for key in ["CHAT_STORE", "CHAT_TABLE", "AWS_TIMEOUT_MS", "CHAT_READ_ONLY_AFTER_SECONDS"] :
    output.retention_environment[key] == output.backend_environment[key]])
    error_message = "the store and the read-only delay exactly as the backend function has them"
  }
}

run "with_attachments_the_job_has_the_file_store_and_may_delete_their_objects" {
  command = plan
  variables {
    message_retention_days = 30
    attachments            = {}
    media_package_path     = "variables.tf"
  }

  assert {
    condition = ({ for key, value in output.retention_environment : key => value if key == "FILE_STORE" || startswith(key, "ATTACHMENTS_") } == {
      FILE_STORE            = "s3://booking-chat-test-attachments-123456789012"
      ATTACHMENTS_MAX_BYTES = "10485760"
      ATTACHMENTS_TYPES     = "image/jpeg,image/png,image/webp,application/pdf"
    })
    error_message = "the bucket as the backend and the processor read it"
  }
  assert {
    condition = [for s in jsondecode(output.retention_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "AttachmentObjects"] == [[
      ["s3:DeleteObject"],
      ["arn:aws:s3:::booking-chat-test-attachments-123456789012/uploads/*", "arn:aws:s3:::booking-chat-test-attachments-123456789012/files/*"],
    ]]
    error_message = "DeleteObject of an attachment's upload, file and thumbnail (files/src/keys.rs), and nothing else of S3"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.retention_policy_json).Statement : [for a in s.Action : a if startswith(a, "s3:") || startswith(a, "kms:")]]))
    == toset(["s3:DeleteObject"]))
    error_message = "no read, no list, no write, nothing on the bucket itself"
  }
}

run "a_customer_managed_bucket_key_is_not_needed_to_delete" {
  command = plan
  variables {
    message_retention_days = 30
    attachments            = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    media_package_path     = "variables.tf"
    secret_kms_key_arn     = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.retention_policy_json).Statement : [for a in s.Action : startswith(a, "kms:")]]))
    error_message = "no KMS: S3 deletes without decrypting, and the job reads no secret on DynamoDB"
  }
}

# The permissions, exactly.

run "the_job_may_do_exactly_what_a_pass_does" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition     = [for s in jsondecode(output.retention_policy_json).Statement : s.Sid] == ["OwnLogs", "ChatTable", "ChatTableIndexes", "AuditLog", "Tracing"]
    error_message = "these statements and no other: no connections table, no Management API, no EventBridge, no S3 without attachments, no secret, no VPC"
  }
  assert {
    condition = [for s in jsondecode(output.retention_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "ChatTable"] == [[
      ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"],
      ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"],
    ]]
    error_message = "a booking's items read and deleted, the booking marked purged, on the chat table only"
  }
  assert {
    condition = [for s in jsondecode(output.retention_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "ChatTableIndexes"] == [[
      ["dynamodb:Query"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat/index/gsi1"],
    ]]
    error_message = "the bookings due, a Query of gsi1"
  }
  assert {
    condition = [for s in jsondecode(output.retention_policy_json).Statement : s if s.Sid == "AuditLog"] == [{
      Sid       = "AuditLog"
      Effect    = "Allow"
      Action    = ["dynamodb:PutItem"]
      Resource  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["AUDIT"] } }
    }]
    error_message = "PutItem in the audit log's partition alone: the job writes nothing else"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(output.retention_policy_json).Statement : [for a in s.Action :
    !strcontains(a, "*") && !contains(["dynamodb:Scan", "dynamodb:BatchGetItem"], a) && (a != "dynamodb:PutItem" || s.Sid == "AuditLog")]]))
    error_message = "no wildcard action, no Scan, no BatchGetItem, and PutItem only with its condition"
  }
  assert {
    condition = alltrue([for s in jsondecode(output.retention_policy_json).Statement : s.Sid == "Tracing" || !anytrue([for r in s.Resource :
    strcontains(r, "*") && !endswith(r, ":*")])])
    error_message = "no wildcard resource but X-Ray's and its own log streams'"
  }
}

run "with_postgres_the_job_reads_the_database_url_in_the_backends_subnets" {
  command = plan
  variables {
    message_retention_days          = 30
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/test/database-url"
    vpc_subnet_ids                  = ["subnet-0a1b2c3d4e5f60718"]
    vpc_security_group_ids          = ["sg-0a1b2c3d4e5f60718"]
  }

  assert {
    condition = ({ for key, value in output.retention_environment : key => value if contains(["CHAT_STORE", "CHAT_TABLE", "DATABASE_MAX_CONNECTIONS", "DATABASE_URL_SSM_PARAMETER"], key) } == {
      CHAT_STORE                 = "postgres"
      DATABASE_MAX_CONNECTIONS   = "2"
      DATABASE_URL_SSM_PARAMETER = "/booking-chat/test/database-url"
    })
    error_message = "the database, by name, as the backend has it; no table"
  }
  assert {
    condition     = [for s in jsondecode(output.retention_policy_json).Statement : s.Sid] == ["OwnLogs", "SecretParameters", "Tracing", "VpcNetworkInterfaces"]
    error_message = "no DynamoDB: its one secret, and its network interfaces in the backend's subnets"
  }
  assert {
    condition = [for s in jsondecode(output.retention_policy_json).Statement : s.Resource if s.Sid == "SecretParameters"] == [[
      "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/database-url",
    ]]
    error_message = "the database's URL, and no other secret"
  }
}

# The schedule, its role and its dead-letter queue.

run "every_hour_the_scheduler_invokes_the_jobs_alias" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = (aws_scheduler_schedule.retention[0].name == "booking-chat-test-retention"
      && aws_scheduler_schedule.retention[0].group_name == "booking-chat-test" && aws_scheduler_schedule_group.schedules[0].name == "booking-chat-test"
      && aws_scheduler_schedule.retention[0].schedule_expression == "rate(1 hour)" && aws_scheduler_schedule.retention[0].state == "ENABLED"
    && one(aws_scheduler_schedule.retention[0].flexible_time_window[*].mode) == "OFF")
    error_message = "rate(1 hour) in the environment's group, enabled, no flexible window"
  }
  assert {
    condition = (one(aws_scheduler_schedule.retention[0].target[*].arn) == "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-retention:live"
      && one(aws_scheduler_schedule.retention[0].target[*].role_arn) == "arn:aws:iam::123456789012:role/booking-chat-test-retention-scheduler"
    && jsondecode(one(aws_scheduler_schedule.retention[0].target[*].input)) == { job = "retention" })
    error_message = "the job's alias, with the scheduler's own role and a fixed JSON input"
  }
  assert {
    condition = ([for policy in one(aws_scheduler_schedule.retention[0].target[*].retry_policy) : [policy.maximum_retry_attempts, policy.maximum_event_age_in_seconds]] == [[2, 3600]]
    && one(one(aws_scheduler_schedule.retention[0].target[*].dead_letter_config)[*].arn) == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-retention-dlq")
    error_message = "a refused delivery retried twice within the hour, then the dead-letter queue"
  }
  assert {
    condition     = output.retention_schedule_arn == "arn:aws:scheduler:eu-west-1:123456789012:schedule/booking-chat-test/booking-chat-test-retention"
    error_message = "the schedule is an output"
  }
}

run "a_failed_pass_is_not_retried_by_lambda" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = (aws_lambda_function_event_invoke_config.retention[0].function_name == "booking-chat-test-retention"
      && aws_lambda_function_event_invoke_config.retention[0].qualifier == "live"
      && aws_lambda_function_event_invoke_config.retention[0].maximum_retry_attempts == 0
    && aws_lambda_function_event_invoke_config.retention[0].maximum_event_age_in_seconds == 3600)
    error_message = "on the alias the scheduler invokes: no retry (the next hour's pass is one), an event dropped after an hour"
  }
  assert {
    condition     = length(aws_lambda_function_event_invoke_config.retention[0].destination_config) == 0
    error_message = "no destination: a failed pass alarms (retention-errors), nothing is kept of it"
  }
}

run "the_scheduler_may_invoke_the_job_and_dead_letter_and_nothing_else" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.retention_scheduler[0].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "InvokeRetention"
          Effect   = "Allow"
          Action   = ["lambda:InvokeFunction"]
          Resource = ["arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-retention:live"]
        },
        {
          Sid      = "RetentionDeadLetters"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-retention-dlq"]
        },
      ]
    }
    error_message = "InvokeFunction on the job's alias ARN exactly (not $LATEST, a version or another function), SendMessage to its dead-letter queue"
  }
  assert {
    condition     = output.retention_scheduler_policy_json == aws_iam_role_policy.retention_scheduler[0].policy
    error_message = "the policy is an output, for review"
  }
  assert {
    condition = jsondecode(aws_iam_role.retention_scheduler[0].assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [{
        Effect    = "Allow"
        Principal = { Service = "scheduler.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = "123456789012" }
          ArnEquals    = { "aws:SourceArn" = "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/booking-chat-test" }
        }
      }]
    }
    error_message = "EventBridge Scheduler alone may assume it, for this account's schedules of this environment's group"
  }
}

run "the_dead_letter_queue_is_encrypted_and_only_the_scheduler_may_send_to_it" {
  command = plan
  variables {
    message_retention_days = 30
  }

  assert {
    condition = (aws_sqs_queue.retention_dead_letter[0].name == "booking-chat-test-retention-dlq"
      && aws_sqs_queue.retention_dead_letter[0].sqs_managed_sse_enabled
    && aws_sqs_queue.retention_dead_letter[0].message_retention_seconds == 1209600)
    error_message = "named after the environment, SSE with SQS-managed keys, kept 14 days"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_policy.retention_dead_letter[0].policy).Statement == [{
      Sid       = "RetentionSchedule"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:role/booking-chat-test-retention-scheduler" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-retention-dlq"
    }]
    error_message = "the schedule's execution role (which the scheduler sends dead letters with) may send, and nobody else is granted anything"
  }
  assert {
    condition = (output.retention_dead_letter_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-retention-dlq"
    && output.retention_dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-retention-dlq")
    error_message = "the queue is an output, to read what failed"
  }
}

# The alarms (alarms.tf).

run "retention_alarms_on_a_failed_pass_an_undelivered_one_and_none_in_three_hours" {
  command = plan
  variables {
    message_retention_days = 30
    alarm_topic_arn        = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
  }

  assert {
    condition = ({ for key in ["retention-errors", "retention-dead-letters"] : key => [
      aws_cloudwatch_metric_alarm.metric[key].alarm_name, aws_cloudwatch_metric_alarm.metric[key].namespace, aws_cloudwatch_metric_alarm.metric[key].metric_name,
      aws_cloudwatch_metric_alarm.metric[key].dimensions, aws_cloudwatch_metric_alarm.metric[key].statistic, aws_cloudwatch_metric_alarm.metric[key].threshold,
      aws_cloudwatch_metric_alarm.metric[key].period, aws_cloudwatch_metric_alarm.metric[key].comparison_operator,
      ] } == {
      retention-errors       = ["booking-chat-test-retention-errors", "AWS/Lambda", "Errors", tomap({ FunctionName = "booking-chat-test-retention" }), "Sum", 0, 300, "GreaterThanThreshold"]
      retention-dead-letters = ["booking-chat-test-retention-dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", tomap({ QueueName = "booking-chat-test-retention-dlq" }), "Maximum", 0, 300, "GreaterThanThreshold"]
    })
    error_message = "one failed pass alarms, and one dead-letter event"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.retention_stalled[0].alarm_name == "booking-chat-test-retention-stalled"
      && aws_cloudwatch_metric_alarm.retention_stalled[0].comparison_operator == "LessThanThreshold"
      && aws_cloudwatch_metric_alarm.retention_stalled[0].threshold == 1 && aws_cloudwatch_metric_alarm.retention_stalled[0].evaluation_periods == 1
    && aws_cloudwatch_metric_alarm.retention_stalled[0].treat_missing_data == "breaching")
    error_message = "fewer than one pass completed in the period alarms, and so does no data at all (nothing invoked it)"
  }
  assert {
    condition = ({ for query in aws_cloudwatch_metric_alarm.retention_stalled[0].metric_query : query.id => (
      query.expression != "" && query.expression != null ? query.expression : join(" ", [
        one(query.metric[*].namespace), one(query.metric[*].metric_name), one(query.metric[*].stat), tostring(one(query.metric[*].period)),
        one(query.metric[*].dimensions)["FunctionName"],
      ])
      ) } == {
      passes      = "FILL(invocations, 0) - FILL(errors, 0)"
      invocations = "AWS/Lambda Invocations Sum 10800 booking-chat-test-retention"
      errors      = "AWS/Lambda Errors Sum 10800 booking-chat-test-retention"
    })
    error_message = "passes completed = the job's invocations minus its errors, each summed over 3 hours (three schedules)"
  }
  assert {
    condition = alltrue([for alarm in concat([aws_cloudwatch_metric_alarm.retention_stalled[0]], [aws_cloudwatch_metric_alarm.metric["retention-errors"], aws_cloudwatch_metric_alarm.metric["retention-dead-letters"]]) :
    alarm.alarm_actions == toset([var.alarm_topic_arn]) && alarm.ok_actions == toset([var.alarm_topic_arn])])
    error_message = "like every alarm: told to the topic when it fires and when it clears"
  }
}

# Refused at plan time.

run "zero_days_are_refused" {
  command = plan
  variables {
    message_retention_days = 0
  }
  expect_failures = [var.message_retention_days]
}

run "more_than_ten_years_are_refused" {
  command = plan
  variables {
    message_retention_days = 3651
  }
  expect_failures = [var.message_retention_days]
}

run "a_fraction_of_a_day_is_refused" {
  command = plan
  variables {
    message_retention_days = 30.5
  }
  expect_failures = [var.message_retention_days]
}

run "retention_with_a_backend_elsewhere_is_refused" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    message_retention_days           = 30
  }
  expect_failures = [var.message_retention_days]
}

run "a_retention_no_longer_than_the_read_only_delay_is_refused" {
  command = plan
  variables {
    message_retention_days = 30
    chat_rules             = { read_only_after_seconds = 2592000 }
  }
  expect_failures = [var.message_retention_days]
}

run "a_day_past_the_read_only_delay_is_accepted_and_the_job_knows_the_delay" {
  command = plan
  variables {
    message_retention_days = 31
    chat_rules             = { read_only_after_seconds = 2592000 }
  }

  assert {
    condition     = output.retention_environment["CHAT_RETENTION_DAYS"] == "31" && output.retention_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "2592000"
    error_message = "31 days after 30 writable: the job's configuration, which checks the same, starts"
  }
}

run "a_chat_read_only_at_once_may_be_kept_a_single_day" {
  command = plan
  variables {
    message_retention_days = 1
    chat_rules             = { read_only_after_seconds = 0 }
  }

  assert {
    condition     = output.retention_environment["CHAT_RETENTION_DAYS"] == "1" && output.retention_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "0"
    error_message = "the shortest retention, with the read-only delay the job needs to accept it (its default, 7 days, would refuse it)"
  }
}
