# Attachments (attachments.tf) with a mocked AWS provider: off by default, with nothing of them planned; on,
# a private bucket (every public access block, no ACLs, encrypted, TLS only, writes under uploads/ and files/
# only) with its lifecycle rules and CORS for the widget's origins, whose upload events reach a queue only
# this bucket may send to, with its dead-letter queue, consumed by the media processor one upload at a time;
# the processor's and the backend's contracts (environment, secrets) and permissions, exactly; the alarms;
# the refusals.
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
  target          = module.http_api[0].aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
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
  target          = aws_sqs_queue.media[0]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-media"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-media"
  }
}

override_resource {
  target          = aws_sqs_queue.media_dead_letter[0]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media-dlq"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-media-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-media-dlq"
  }
}

override_resource {
  target          = module.media_function[0].aws_lambda_alias.this
  override_during = plan
  values = {
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-media:live"
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

run "attachments_are_off_by_default_and_nothing_of_them_is_planned" {
  command = plan

  assert {
    condition = (length(aws_s3_bucket.attachments) == 0 && length(aws_s3_bucket_public_access_block.attachments) == 0
      && length(aws_s3_bucket_ownership_controls.attachments) == 0 && length(aws_s3_bucket_server_side_encryption_configuration.attachments) == 0
      && length(aws_s3_bucket_policy.attachments) == 0 && length(aws_s3_bucket_lifecycle_configuration.attachments) == 0
      && length(aws_s3_bucket_cors_configuration.attachments) == 0 && length(aws_s3_bucket_notification.attachments) == 0
      && length(aws_sqs_queue.media) == 0 && length(aws_sqs_queue.media_dead_letter) == 0
      && length(aws_sqs_queue_policy.media) == 0 && length(aws_sqs_queue_redrive_allow_policy.media_dead_letter) == 0
    && length(module.media_function) == 0 && length(aws_lambda_event_source_mapping.media) == 0)
    error_message = "no bucket, no bucket configuration, no queue, no processor, no event source mapping"
  }
  assert {
    condition = (output.attachments_bucket_name == null && output.attachments_bucket_arn == null && output.media_queue_url == null
      && output.media_queue_arn == null && output.media_dead_letter_queue_arn == null && output.media_function_name == null
    && output.media_policy_json == null && output.media_environment == null && output.attachments_allowed_origins == null)
    error_message = "null outputs"
  }
  assert {
    condition     = !anytrue([for key in keys(output.backend_environment) : key == "FILE_STORE" || startswith(key, "ATTACHMENTS_")])
    error_message = "the backend keeps no files: FILE_STORE unset is attachments off"
  }
  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.backend_policy_json).Statement : [for a in s.Action : startswith(a, "s3:") || startswith(a, "kms:")]]))
    error_message = "and may do nothing of S3"
  }
  assert {
    condition     = length([for key in keys(aws_cloudwatch_metric_alarm.metric) : key if startswith(key, "media-")]) == 0
    error_message = "no alarms on a processor that does not exist"
  }
}

run "a_media_package_without_attachments_is_refused" {
  command = plan
  variables {
    media_package_path = "variables.tf"
  }
  expect_failures = [var.media_package_path]
}

run "attachments_without_the_media_package_are_refused" {
  command = plan
  variables {
    attachments = {}
  }
  expect_failures = [var.media_package_path]
}

# From here on attachments are on with their defaults (`{}`, as the roots pass them): 10 MiB, the four
# types, 10 a message, forms and URLs valid 300 s, uploads kept a day and unreferenced files two, the
# HTTP API's origins, SSE-S3, 1024 MB, 5 at once.

run "the_bucket_is_the_environments_private_and_encrypted" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = (aws_s3_bucket.attachments[0].bucket == "booking-chat-test-attachments-123456789012"
      && output.attachments_bucket_name == "booking-chat-test-attachments-123456789012"
    && output.attachments_bucket_arn == "arn:aws:s3:::booking-chat-test-attachments-123456789012")
    error_message = "one bucket, named after the environment and the account (bucket names are global)"
  }
  assert {
    condition = (aws_s3_bucket_public_access_block.attachments[0].block_public_acls && aws_s3_bucket_public_access_block.attachments[0].ignore_public_acls
    && aws_s3_bucket_public_access_block.attachments[0].block_public_policy && aws_s3_bucket_public_access_block.attachments[0].restrict_public_buckets)
    error_message = "all four public access blocks on"
  }
  assert {
    condition     = one(aws_s3_bucket_ownership_controls.attachments[0].rule[*].object_ownership) == "BucketOwnerEnforced"
    error_message = "bucket owner enforced: no ACLs"
  }
  assert {
    condition = (one(one(aws_s3_bucket_server_side_encryption_configuration.attachments[0].rule[*].apply_server_side_encryption_by_default)[*].sse_algorithm) == "AES256"
    && one(one(aws_s3_bucket_server_side_encryption_configuration.attachments[0].rule[*].apply_server_side_encryption_by_default)[*].kms_master_key_id) == null)
    error_message = "encrypted at rest with S3-managed keys by default"
  }
  assert {
    condition     = aws_s3_bucket.attachments[0].force_destroy
    error_message = "without table deletion protection (dev) a destroy empties the bucket"
  }
}

run "a_protected_environments_bucket_is_not_emptied_by_a_destroy" {
  command = plan
  variables {
    attachments               = {}
    media_package_path        = "variables.tf"
    table_deletion_protection = true
  }

  assert {
    condition     = !aws_s3_bucket.attachments[0].force_destroy
    error_message = "with deletion protection, S3 refuses to delete a bucket that still holds files"
  }
}

run "the_bucket_policy_refuses_plain_http_and_writes_outside_uploads_and_files" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = jsondecode(aws_s3_bucket_policy.attachments[0].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "TlsOnly"
          Effect    = "Deny"
          Principal = "*"
          Action    = "s3:*"
          Resource  = ["arn:aws:s3:::booking-chat-test-attachments-123456789012", "arn:aws:s3:::booking-chat-test-attachments-123456789012/*"]
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
        {
          Sid         = "UploadsAndFilesOnly"
          Effect      = "Deny"
          Principal   = "*"
          Action      = "s3:PutObject"
          NotResource = ["arn:aws:s3:::booking-chat-test-attachments-123456789012/uploads/*", "arn:aws:s3:::booking-chat-test-attachments-123456789012/files/*"]
        },
      ]
    }
    error_message = "two denials and no grant: TLS only, whoever signs; no object written outside uploads/ and files/"
  }
}

run "lifecycle_rules_delete_what_outlived_its_purpose" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = [for rule in aws_s3_bucket_lifecycle_configuration.attachments[0].rule : rule.id if rule.status == "Enabled"] == [
      "uploads", "unreferenced-files", "leftovers",
    ]
    error_message = "three rules, all enabled"
  }
  assert {
    condition = ([for rule in aws_s3_bucket_lifecycle_configuration.attachments[0].rule : [one(rule.filter[*].prefix), one(rule.expiration[*].days)] if rule.id == "uploads"]
    == [["uploads/", 1]])
    error_message = "an upload the processor never took is deleted after a day"
  }
  assert {
    condition = ([for rule in aws_s3_bucket_lifecycle_configuration.attachments[0].rule : [one(one(rule.filter[*].tag)[*].key), one(one(rule.filter[*].tag)[*].value), one(rule.expiration[*].days)] if rule.id == "unreferenced-files"]
    == [["state", "unreferenced", 2]])
    error_message = "a processed file still tagged state=unreferenced (only the processor writes that tag, under files/) is deleted after two days"
  }
  assert {
    condition = ([for rule in aws_s3_bucket_lifecycle_configuration.attachments[0].rule : [
      one(rule.abort_incomplete_multipart_upload[*].days_after_initiation), one(rule.noncurrent_version_expiration[*].noncurrent_days),
      length(rule.filter), length(one(rule.filter[*].and)), length(rule.expiration),
    ] if rule.id == "leftovers"] == [[1, 1, 1, 0, 0]])
    error_message = "across the bucket, an incomplete multipart upload is aborted and a noncurrent version deleted after a day; nothing current expires"
  }
}

run "the_lifecycle_follows_the_days_given" {
  command = plan
  variables {
    attachments        = { upload_days = 2, unreferenced_days = 7 }
    media_package_path = "variables.tf"
  }

  assert {
    condition = ({ for rule in aws_s3_bucket_lifecycle_configuration.attachments[0].rule : rule.id => one(rule.expiration[*].days) if length(rule.expiration) > 0 }
    == { uploads = 2, "unreferenced-files" = 7 })
    error_message = "upload_days and unreferenced_days reach the rules"
  }
}

run "browsers_of_the_http_apis_origins_may_upload_and_download" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = { for rule in aws_s3_bucket_cors_configuration.attachments[0].cors_rule : rule.id => [
      rule.allowed_methods, rule.allowed_origins, rule.expose_headers, rule.max_age_seconds,
      ] } == {
      upload   = [toset(["POST"]), toset(["https://app.booking.internal"]), toset(["ETag"]), 3600]
      download = [toset(["GET", "HEAD"]), toset(["https://app.booking.internal"]), toset(["ETag"]), 3600]
    }
    error_message = "POST (the upload form) and GET and HEAD (downloads) from cors_allowed_origins, ETag exposed, preflights cached an hour"
  }
  assert {
    condition     = output.attachments_allowed_origins == tolist(["https://app.booking.internal"])
    error_message = "the origins are an output, for review"
  }
}

run "the_buckets_own_origins_replace_the_http_apis" {
  command = plan
  variables {
    attachments        = { allowed_origins = ["https://chat.booking.internal", "https://app.booking.internal:8443"] }
    media_package_path = "variables.tf"
  }

  assert {
    condition = alltrue([for rule in aws_s3_bucket_cors_configuration.attachments[0].cors_rule :
    rule.allowed_origins == toset(["https://chat.booking.internal", "https://app.booking.internal:8443"])])
    error_message = "attachments.allowed_origins, when given, are the bucket's origins"
  }
}

run "without_origins_there_is_no_cors_rule" {
  command = plan
  variables {
    cors_allowed_origins = []
    attachments          = {}
    media_package_path   = "variables.tf"
  }

  assert {
    condition     = length(aws_s3_bucket_cors_configuration.attachments) == 0 && length(aws_s3_bucket.attachments) == 1 && length(output.attachments_allowed_origins) == 0
    error_message = "no origin, no CORS configuration (browsers cannot upload; the preflight refuses this outside dev)"
  }
}

run "uploads_and_only_uploads_reach_the_queue_from_this_bucket_only" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = [for queue in aws_s3_bucket_notification.attachments[0].queue : [queue.queue_arn, queue.events, queue.filter_prefix]] == [
      ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media", toset(["s3:ObjectCreated:*"]), "uploads/"],
    ]
    error_message = "every object created under uploads/ is an event on the media queue; nothing under files/ (the processor's own writes)"
  }
  assert {
    condition = (length(aws_s3_bucket_notification.attachments[0].lambda_function) == 0 && length(aws_s3_bucket_notification.attachments[0].topic) == 0
    && aws_s3_bucket_notification.attachments[0].eventbridge != true)
    error_message = "the queue is the only destination"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_policy.media[0].policy).Statement == [{
      Sid       = "AttachmentsBucket"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"
      Condition = {
        ArnEquals    = { "aws:SourceArn" = "arn:aws:s3:::booking-chat-test-attachments-123456789012" }
        StringEquals = { "aws:SourceAccount" = "123456789012" }
      }
    }]
    error_message = "S3 may send to the queue for this bucket of this account only, and nobody else is granted anything"
  }
}

run "the_queue_has_a_dead_letter_queue_and_both_are_encrypted" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = (aws_sqs_queue.media[0].name == "booking-chat-test-media" && aws_sqs_queue.media_dead_letter[0].name == "booking-chat-test-media-dlq"
    && aws_sqs_queue.media[0].sqs_managed_sse_enabled && aws_sqs_queue.media_dead_letter[0].sqs_managed_sse_enabled)
    error_message = "a queue and its dead-letter queue, named after the environment, encrypted with SQS-managed keys"
  }
  assert {
    condition = jsondecode(aws_sqs_queue.media[0].redrive_policy) == {
      deadLetterTargetArn = "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media-dlq"
      maxReceiveCount     = 5
    }
    error_message = "an event received five times without being handled goes to the dead-letter queue, as the notifier's"
  }
  assert {
    condition = jsondecode(aws_sqs_queue_redrive_allow_policy.media_dead_letter[0].redrive_allow_policy) == {
      redrivePermission = "byQueue"
      sourceQueueArns   = ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"]
    }
    error_message = "only the media queue may dead-letter into it"
  }
  assert {
    condition     = aws_sqs_queue.media_dead_letter[0].message_retention_seconds == 1209600 && aws_sqs_queue.media[0].visibility_timeout_seconds == 360
    error_message = "dead letters kept 14 days; a visibility timeout of six times the processor's 60 s"
  }
  assert {
    condition = (output.media_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/booking-chat-test-media"
      && output.media_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"
    && output.media_dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media-dlq")
    error_message = "the queues are outputs, for aws sqs commands and redrives"
  }
}

run "the_processor_takes_one_upload_at_a_time_reporting_failures" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = (aws_lambda_event_source_mapping.media[0].event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"
    && aws_lambda_event_source_mapping.media[0].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-media:live")
    error_message = "the queue invokes the processor's alias"
  }
  assert {
    condition = (aws_lambda_event_source_mapping.media[0].batch_size == 1
      && aws_lambda_event_source_mapping.media[0].function_response_types == toset(["ReportBatchItemFailures"])
    && one(aws_lambda_event_source_mapping.media[0].scaling_config[*].maximum_concurrency) == 5)
    error_message = "one upload an invocation (a message's photos side by side), failed items reported, at most 5 at once by default"
  }
  assert {
    condition = (module.media_function[0].function_name == "booking-chat-test-media" && output.media_function_name == "booking-chat-test-media"
      && module.media_function[0].architecture == "arm64" && module.media_function[0].memory_size == 1024
    && module.media_function[0].timeout_seconds == 60 && module.media_function[0].reserved_concurrency == null)
    error_message = "an arm64 function of 1024 MB (image decoding) and a minute, unreserved by default"
  }
}

run "the_processors_size_and_concurrency_are_passed_through" {
  command = plan
  variables {
    attachments        = { memory_size = 2048, maximum_concurrency = 10, reserved_concurrency = 20 }
    media_package_path = "variables.tf"
  }

  assert {
    condition = (module.media_function[0].memory_size == 2048
      && module.media_function[0].reserved_concurrency == 20
    && one(aws_lambda_event_source_mapping.media[0].scaling_config[*].maximum_concurrency) == 10)
    error_message = "memory_size, reserved_concurrency and maximum_concurrency reach the function and its mapping"
  }
}

run "the_processors_environment_is_its_contract" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = output.media_environment == tomap({
      APP_ENV                     = "test"
      LOG_FORMAT                  = "json"
      RUST_LOG                    = "info"
      METRICS_NAMESPACE           = "BookingChat"
      STAGE                       = "test"
      BACKEND_URL                 = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
      FILE_STORE                  = "s3://booking-chat-test-attachments-123456789012"
      ATTACHMENTS_MAX_BYTES       = "10485760"
      ATTACHMENTS_TYPES           = "image/jpeg,image/png,image/webp,application/pdf"
      SERVICE_TOKEN_SSM_PARAMETER = "/booking-chat/test/service-token"
    })
    error_message = "exactly the processor's contract (media/src/config.rs): the bucket, the HTTP API it reports to, the service token by name, the size and types kept"
  }
}

run "the_backends_environment_gains_the_bucket_and_the_rules" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = { for key, value in output.backend_environment : key => value if key == "FILE_STORE" || startswith(key, "ATTACHMENTS_") } == {
      FILE_STORE                       = "s3://booking-chat-test-attachments-123456789012"
      ATTACHMENTS_MAX_BYTES            = "10485760"
      ATTACHMENTS_TYPES                = "image/jpeg,image/png,image/webp,application/pdf"
      ATTACHMENTS_PER_MESSAGE          = "10"
      ATTACHMENTS_UPLOAD_TTL_SECONDS   = "300"
      ATTACHMENTS_DOWNLOAD_TTL_SECONDS = "300"
    }
    error_message = "the backend signs for the same bucket, with the same size and types as the processor, and the message's and signatures' rules"
  }
}

run "the_rules_are_passed_through" {
  command = plan
  variables {
    attachments        = { max_bytes = 5242880, types = ["image/jpeg", "application/pdf"], per_message = 4, upload_ttl_seconds = 120, download_ttl_seconds = 900 }
    media_package_path = "variables.tf"
  }

  assert {
    condition = (output.backend_environment["ATTACHMENTS_MAX_BYTES"] == "5242880" && output.media_environment["ATTACHMENTS_MAX_BYTES"] == "5242880"
      && output.backend_environment["ATTACHMENTS_TYPES"] == "image/jpeg,application/pdf" && output.media_environment["ATTACHMENTS_TYPES"] == "image/jpeg,application/pdf"
      && output.backend_environment["ATTACHMENTS_PER_MESSAGE"] == "4" && output.backend_environment["ATTACHMENTS_UPLOAD_TTL_SECONDS"] == "120"
    && output.backend_environment["ATTACHMENTS_DOWNLOAD_TTL_SECONDS"] == "900")
    error_message = "each rule reaches its variable, the shared ones both functions"
  }
}

run "the_service_token_from_secrets_manager_reaches_the_processor" {
  command = plan
  variables {
    attachments                       = {}
    media_package_path                = "variables.tf"
    service_token_ssm_parameter_name  = null
    service_token_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/service-token-AbCdEf"
  }

  assert {
    condition = (output.media_environment["SERVICE_TOKEN_SECRETS_MANAGER_ID"] == var.service_token_secrets_manager_arn
      && [for s in jsondecode(output.media_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "SecretsManagerSecrets"] == [[["secretsmanager:GetSecretValue"], [var.service_token_secrets_manager_arn]]]
    && !anytrue([for s in jsondecode(output.media_policy_json).Statement : contains(s.Action, "ssm:GetParameter")]))
    error_message = "the processor reads the service token from Secrets Manager, and no SSM parameter"
  }
}

# The permissions, exactly: both roles' statements, actions and resources.

run "the_backend_may_sign_uploads_and_read_delete_and_tag_files_and_nothing_else" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition = [for s in jsondecode(output.backend_policy_json).Statement : s.Sid] == [
      "OwnLogs", "ChatTable", "ChatTableIndexes", "ConnectionRecords", "ManageConnections", "PublishChatEvents",
      "AttachmentUploads", "AttachmentFiles", "SecretParameters", "Tracing",
    ]
    error_message = "two statements more, and no key statement without a KMS key"
  }
  assert {
    condition = [for s in jsondecode(output.backend_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "AttachmentUploads"] == [[
      ["s3:PutObject", "s3:DeleteObject"], ["arn:aws:s3:::booking-chat-test-attachments-123456789012/uploads/*"],
    ]]
    error_message = "PutObject (the upload form it signs can be no wider) and DeleteObject (an erased member's uploads) under uploads/ only"
  }
  assert {
    condition = [for s in jsondecode(output.backend_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "AttachmentFiles"] == [[
      ["s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging"], ["arn:aws:s3:::booking-chat-test-attachments-123456789012/files/*"],
    ]]
    error_message = "GetObject (download URLs), DeleteObject (a deleted message's files) and PutObjectTagging (referenced) under files/ only"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.backend_policy_json).Statement : [for a in s.Action : a if startswith(a, "s3:")]]))
    == toset(["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging"]))
    error_message = "no other S3 action in any statement: no ListBucket, nothing on the bucket itself"
  }
}

run "the_processor_may_do_exactly_what_its_work_needs" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
  }

  assert {
    condition     = [for s in jsondecode(output.media_policy_json).Statement : s.Sid] == ["OwnLogs", "MediaQueue", "Uploads", "UploadsGone", "Files", "SecretParameters", "Tracing"]
    error_message = "these statements and no other (no table, no Management API, no EventBridge, no VPC, no KMS without a key)"
  }
  assert {
    condition = [for s in jsondecode(output.media_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "MediaQueue"] == [[
      ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ["arn:aws:sqs:eu-west-1:123456789012:booking-chat-test-media"],
    ]]
    error_message = "the event source mapping's three actions on its queue; it sends nothing"
  }
  assert {
    condition = [for s in jsondecode(output.media_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "Uploads"] == [[
      ["s3:GetObject", "s3:DeleteObject"], ["arn:aws:s3:::booking-chat-test-attachments-123456789012/uploads/*"],
    ]]
    error_message = "it reads and deletes uploads"
  }
  assert {
    condition = [for s in jsondecode(output.media_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "Files"] == [[
      ["s3:PutObject", "s3:PutObjectTagging"], ["arn:aws:s3:::booking-chat-test-attachments-123456789012/files/*"],
    ]]
    error_message = "it writes files, tagged; it never reads or deletes one"
  }
  assert {
    condition = [for s in jsondecode(output.media_policy_json).Statement : s.Resource if s.Sid == "SecretParameters"] == [[
      "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/service-token",
    ]]
    error_message = "it reads the service token, and no other secret"
  }
  assert {
    condition = [for s in jsondecode(output.media_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "UploadsGone"] == [[
      ["s3:ListBucket"], ["arn:aws:s3:::booking-chat-test-attachments-123456789012"],
    ]]
    error_message = "ListBucket on the bucket alone, so that an upload already processed reads as 404, not 403"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(output.media_policy_json).Statement :
    [for a in s.Action : !strcontains(a, "*") && (a != "s3:ListBucket" || s.Sid == "UploadsGone")]]))
    error_message = "no wildcard action, and ListBucket in its own statement only"
  }
  assert {
    condition = alltrue([for s in jsondecode(output.media_policy_json).Statement : s.Sid == "Tracing" || s.Sid == "UploadsGone" || !anytrue([for r in s.Resource :
    (strcontains(r, "*") && !endswith(r, ":*") && !endswith(r, "/uploads/*") && !endswith(r, "/files/*")) || r == "arn:aws:s3:::booking-chat-test-attachments-123456789012"])])
    error_message = "no wildcard resource but X-Ray's, its own log streams' and the two prefixes; nothing on the bucket itself but ListBucket"
  }
}

run "a_customer_managed_key_encrypts_the_bucket_and_both_roles_may_use_it" {
  command = plan
  variables {
    attachments        = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    media_package_path = "variables.tf"
  }

  assert {
    condition = (one(one(aws_s3_bucket_server_side_encryption_configuration.attachments[0].rule[*].apply_server_side_encryption_by_default)[*].sse_algorithm) == "aws:kms"
      && one(one(aws_s3_bucket_server_side_encryption_configuration.attachments[0].rule[*].apply_server_side_encryption_by_default)[*].kms_master_key_id) == var.attachments.kms_key_arn
    && one(aws_s3_bucket_server_side_encryption_configuration.attachments[0].rule[*].bucket_key_enabled))
    error_message = "SSE-KMS with the key, and an S3 Bucket Key (one data key per bucket, not a KMS request per object)"
  }
  assert {
    condition = alltrue([for policy in [output.backend_policy_json, output.media_policy_json] :
      [for s in jsondecode(policy).Statement : [s.Action, s.Resource] if s.Sid == "AttachmentsKey"] == [[
        ["kms:Decrypt", "kms:GenerateDataKey"], ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    ]]])
    error_message = "each role may encrypt (GenerateDataKey: the signed upload, the processor's files) and decrypt (Decrypt: downloads, the processor's reads) with that key only"
  }
}

# The alarms (alarms.tf).

run "attachments_alarm_on_errors_throttles_dead_letters_and_a_stalled_queue" {
  command = plan
  variables {
    attachments        = {}
    media_package_path = "variables.tf"
    alarm_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
  }

  assert {
    condition = ({ for key in ["media-errors", "media-throttles"] : key => [
      aws_cloudwatch_metric_alarm.metric[key].alarm_name, aws_cloudwatch_metric_alarm.metric[key].namespace, aws_cloudwatch_metric_alarm.metric[key].metric_name,
      aws_cloudwatch_metric_alarm.metric[key].dimensions, aws_cloudwatch_metric_alarm.metric[key].statistic, aws_cloudwatch_metric_alarm.metric[key].threshold,
      ] } == {
      media-errors    = ["booking-chat-test-media-errors", "AWS/Lambda", "Errors", tomap({ FunctionName = "booking-chat-test-media" }), "Sum", 0]
      media-throttles = ["booking-chat-test-media-throttles", "AWS/Lambda", "Throttles", tomap({ FunctionName = "booking-chat-test-media" }), "Sum", 0]
    })
    error_message = "any error or throttle of the processor alarms"
  }
  assert {
    condition = ({ for key in ["media-dead-letters", "media-queue-age"] : key => [
      aws_cloudwatch_metric_alarm.metric[key].alarm_name, aws_cloudwatch_metric_alarm.metric[key].namespace, aws_cloudwatch_metric_alarm.metric[key].metric_name,
      aws_cloudwatch_metric_alarm.metric[key].dimensions, aws_cloudwatch_metric_alarm.metric[key].statistic, aws_cloudwatch_metric_alarm.metric[key].threshold,
      ] } == {
      media-dead-letters = ["booking-chat-test-media-dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", tomap({ QueueName = "booking-chat-test-media-dlq" }), "Maximum", 0]
      media-queue-age    = ["booking-chat-test-media-queue-age", "AWS/SQS", "ApproximateAgeOfOldestMessage", tomap({ QueueName = "booking-chat-test-media" }), "Maximum", 300]
    })
    error_message = "any message in the dead-letter queue alarms, and an upload event waiting more than 5 minutes"
  }
  assert {
    condition = alltrue([for key in ["media-errors", "media-throttles", "media-dead-letters", "media-queue-age"] :
      aws_cloudwatch_metric_alarm.metric[key].period == 300 && aws_cloudwatch_metric_alarm.metric[key].evaluation_periods == 1
      && aws_cloudwatch_metric_alarm.metric[key].comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.metric[key].alarm_actions == toset([var.alarm_topic_arn])
    && aws_cloudwatch_metric_alarm.metric[key].ok_actions == toset([var.alarm_topic_arn])])
    error_message = "like every alarm: the first 5-minute period above the threshold, told to the topic when it fires and when it clears"
  }
}

# Refused at plan time.

run "attachments_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    attachments                      = {}
    media_package_path               = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_type_the_processor_does_not_keep_is_refused" {
  command = plan
  variables {
    attachments        = { types = ["image/jpeg", "image/heic"] }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "no_type_at_all_is_refused" {
  command = plan
  variables {
    attachments        = { types = [] }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_file_larger_than_the_processor_holds_is_refused" {
  command = plan
  variables {
    attachments        = { max_bytes = 52428801 }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_download_url_valid_for_hours_is_refused" {
  command = plan
  variables {
    attachments        = { download_ttl_seconds = 86400 }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_lifecycle_of_zero_days_is_refused" {
  command = plan
  variables {
    attachments        = { unreferenced_days = 0 }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "an_origin_with_a_path_is_refused" {
  command = plan
  variables {
    attachments        = { allowed_origins = ["https://app.booking.internal/chat"] }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_kms_alias_is_refused" {
  command = plan
  variables {
    attachments        = { kms_key_arn = "alias/booking-chat" }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_maximum_concurrency_below_lambdas_minimum_is_refused" {
  command = plan
  variables {
    attachments        = { maximum_concurrency = 1 }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}

run "a_reservation_below_the_mappings_concurrency_is_refused" {
  command = plan
  variables {
    attachments        = { maximum_concurrency = 10, reserved_concurrency = 5 }
    media_package_path = "variables.tf"
  }
  expect_failures = [var.attachments]
}
