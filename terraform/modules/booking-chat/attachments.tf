# Attachments, with `attachments` set (docs/attachments.md; docs/deploying.md, Attachments): photos and
# documents private to a booking's members. The environment's bucket keeps them, never behind a public URL:
# the backend function signs a browser's upload form (a POST policy naming the exact key under uploads/, the
# type and the size range) and each download URL (files/) with its own role, so those rights are its
# role's, in iam.tf. Every object created under uploads/ is an event on the media queue; the media
# processor (media/, crate chat-media) consumes it through an event source mapping, reads the upload's real
# type from its bytes, strips images' metadata by decoding and encoding them again, writes
# files/{booking}/{attachment}/{original,thumbnail} tagged state=unreferenced, deletes the upload, and
# reports to the backend's HTTP API (POST /api/service/attachments/processed, with the service token).
# Lifecycle rules delete what outlived its purpose: an upload never processed, a file no message took.
# What was received five times without being handled goes to the dead-letter queue. The permissions are in
# iam.tf, the alarms in alarms.tf.
locals {
  attachments = var.attachments != null

  # S3 bucket names are global: the account's id keeps this one to this account (54 characters at most,
  # with a 16-character environment).
  attachments_bucket_name = "${local.name}-attachments-${data.aws_caller_identity.current.account_id}"
  attachments_bucket_arn  = local.attachments ? aws_s3_bucket.attachments[0].arn : null
  attachments_kms         = local.attachments ? var.attachments.kms_key_arn != null : false

  # The browser origins that POST uploads to the bucket and GET downloads from it: the widget's pages,
  # which are the HTTP API's callers unless told otherwise.
  attachments_origins = local.attachments ? (var.attachments.allowed_origins == null ? var.cors_allowed_origins : var.attachments.allowed_origins) : []

  # Decoding and encoding a 12-megapixel photo takes hundreds of milliseconds at 1024 MB; a minute leaves
  # room for a cold start, the largest file and the report to the backend. As for the notifier, the queue's
  # visibility timeout is six times the function's (Lambda's advice for an SQS event source).
  media_timeout_seconds    = 60
  media_visibility_timeout = 6 * local.media_timeout_seconds
  # An upload event the processor failed on (a crash, a timeout) is received again later, and after as many
  # receives as the notifier's goes to the dead-letter queue.
  media_max_receive_count = local.notifications_max_receive_count
  # The oldest upload event older than this: processing is stuck or retried, and members' attachments stay
  # pending.
  media_queue_age_alarm_seconds = 300

  # What both the backend and the processor read: where files are, the largest, the types kept.
  attachments_environment = local.attachments ? {
    FILE_STORE            = "s3://${aws_s3_bucket.attachments[0].bucket}"
    ATTACHMENTS_MAX_BYTES = tostring(var.attachments.max_bytes)
    ATTACHMENTS_TYPES     = join(",", var.attachments.types)
  } : {}

  # The backend's part: the rules of a message's attachments, and how long its signatures are valid.
  backend_attachments_environment = local.attachments ? merge(local.attachments_environment, {
    ATTACHMENTS_PER_MESSAGE          = tostring(var.attachments.per_message)
    ATTACHMENTS_UPLOAD_TTL_SECONDS   = tostring(var.attachments.upload_ttl_seconds)
    ATTACHMENTS_DOWNLOAD_TTL_SECONDS = tostring(var.attachments.download_ttl_seconds)
  }) : {}

  # The processor's configuration contract (media/src/config.rs), its secret aside. BACKEND_URL is the HTTP
  # API's execute-api URL, not its custom domain: a server-to-server call that works from the first apply,
  # before anyone has created the domain's DNS record.
  media_environment = local.attachments ? tomap(merge(
    {
      APP_ENV           = var.environment
      LOG_FORMAT        = "json"
      RUST_LOG          = "info"
      METRICS_NAMESPACE = var.metrics_namespace
      STAGE             = var.environment
      BACKEND_URL       = module.http_api[0].url
    },
    local.attachments_environment,
  )) : tomap({})
}

resource "aws_s3_bucket" "attachments" {
  count = local.attachments ? 1 : 0

  #checkov:skip=CKV_AWS_18:Server access logs would record every object key (booking and attachment ids) and requester in a second bucket to secure and expire; the backend logs each upload form and download URL it signs, for a member it has authenticated, and CloudTrail data events can be turned on where an audit needs S3's own record.
  #checkov:skip=CKV_AWS_144:Cross-region replication would copy members' private files to a second region and keep them there after the lifecycle rules and deleted messages removed them here; attachments are as durable as S3's one region (99.999999999 %), like the chat table they belong to.
  #checkov:skip=CKV_AWS_21:Versioning is off on purpose: deleting a message deletes its files (a member's privacy), and a version kept behind a delete marker would not be deleted; keys are written once (an attachment id is new), so there is nothing to overwrite by mistake. The lifecycle expires noncurrent versions after a day if it is ever turned on.
  #checkov:skip=CKV_AWS_19:Encrypted at rest by aws_s3_bucket_server_side_encryption_configuration.attachments below: AES256, or aws:kms with attachments.kms_key_arn; checkov cannot resolve that conditional, and tests/attachments.tftest.hcl asserts both.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) by default, which costs nothing per request; attachments.kms_key_arn switches to SSE-KMS with a customer managed key (and an S3 Bucket Key) where a policy asks for one.
  bucket = local.attachments_bucket_name
  # Where the tables are protected, a bucket with files is too (S3 refuses to delete it); elsewhere (dev) a
  # destroy empties it first.
  force_destroy = !var.table_deletion_protection
  tags          = var.tags
}

# Nothing in it is ever public: no ACL, no policy, no access point can make it so.
resource "aws_s3_bucket_public_access_block" "attachments" {
  count = local.attachments ? 1 : 0

  bucket                  = aws_s3_bucket.attachments[0].id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

# ACLs are off: the bucket owner owns every object, whoever wrote it, and access is IAM and the policy below.
resource "aws_s3_bucket_ownership_controls" "attachments" {
  count = local.attachments ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "attachments" {
  count = local.attachments ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.attachments_kms ? "aws:kms" : "AES256"
      kms_master_key_id = local.attachments_kms ? var.attachments.kms_key_arn : null
    }
    # With a KMS key, one data key per bucket rather than a KMS request per object.
    bucket_key_enabled = local.attachments_kms
  }
}

# Requests without TLS are refused, whoever signs them; and, belt and braces beside the roles' own scopes,
# no object is written outside uploads/ and files/.
resource "aws_s3_bucket_policy" "attachments" {
  count = local.attachments ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.attachments_bucket_arn, "${local.attachments_bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid         = "UploadsAndFilesOnly"
        Effect      = "Deny"
        Principal   = "*"
        Action      = "s3:PutObject"
        NotResource = ["${local.attachments_bucket_arn}/uploads/*", "${local.attachments_bucket_arn}/files/*"]
      },
    ]
  })

  # S3 refuses a policy while the public access block is being put.
  depends_on = [aws_s3_bucket_public_access_block.attachments]
}

# Nothing outlives its purpose (docs/attachments.md, Where files are kept). Expiration counts from the
# object's creation, not from its tagging: a file the processor wrote and no message took within
# unreferenced_days goes, whenever it was tagged; S3 removes what is due within about a day, and bills
# nothing after it is due.
resource "aws_s3_bucket_lifecycle_configuration" "attachments" {
  count = local.attachments ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id

  # An upload the processor never took (its events failed, or the form was used and nothing followed).
  rule {
    id     = "uploads"
    status = "Enabled"
    filter {
      prefix = "uploads/"
    }
    expiration {
      days = var.attachments.upload_days
    }
  }

  # A processed file no message references: the processor writes each file under files/ tagged
  # state=unreferenced, the backend retags it state=referenced once a message uses it (a message's deletion
  # deletes its files itself). Only the processor writes that tag, so the tag alone is the filter (a prefix
  # beside it, an And filter, is what moto cannot read back, and the apply test would never converge).
  rule {
    id     = "unreferenced-files"
    status = "Enabled"
    filter {
      tag {
        key   = "state"
        value = "unreferenced"
      }
    }
    expiration {
      days = var.attachments.unreferenced_days
    }
  }

  # Browser POST uploads and the processor's writes are single requests, so no multipart upload should ever
  # be left; and versioning is off, so no noncurrent version should ever exist. If either does (a client
  # that uses multipart, versioning turned on by hand), it does not outlive a day.
  rule {
    id     = "leftovers"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
}

# Browsers POST the upload form to the bucket (the widget uses XMLHttpRequest, for its progress, which makes
# the browser ask first) and may GET or HEAD a download URL with fetch; ETag is readable. Without origins
# there is no rule, and browsers cannot upload.
resource "aws_s3_bucket_cors_configuration" "attachments" {
  count = local.attachments && length(local.attachments_origins) > 0 ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id

  cors_rule {
    id              = "upload"
    allowed_methods = ["POST"]
    allowed_origins = local.attachments_origins
    allowed_headers = ["content-type"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }

  cors_rule {
    id              = "download"
    allowed_methods = ["GET", "HEAD"]
    allowed_origins = local.attachments_origins
    allowed_headers = ["range"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

# What the processor failed on five times: kept 14 days, to look at (the media-dead-letters alarm) and move
# back with a redrive within upload_days, while the upload still exists.
resource "aws_sqs_queue" "media_dead_letter" {
  count = local.attachments ? 1 : 0

  name                      = "${local.name}-media-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.notifications_dead_letter_retention_s
  tags                      = var.tags
}

# The bucket's upload events (S3 can send to a queue encrypted with SQS-managed keys).
resource "aws_sqs_queue" "media" {
  count = local.attachments ? 1 : 0

  name                       = "${local.name}-media"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.media_visibility_timeout
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.media_dead_letter[0].arn
    maxReceiveCount     = local.media_max_receive_count
  })
  tags = var.tags
}

# Only the media queue may move its messages to the dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "media_dead_letter" {
  count = local.attachments ? 1 : 0

  queue_url = aws_sqs_queue.media_dead_letter[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.media[0].arn]
  })
}

# S3 may send to the queue for this bucket of this account only.
resource "aws_sqs_queue_policy" "media" {
  count = local.attachments ? 1 : 0

  queue_url = aws_sqs_queue.media[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AttachmentsBucket"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.media[0].arn
      Condition = {
        ArnEquals    = { "aws:SourceArn" = local.attachments_bucket_arn }
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
}

# Every object created under uploads/ (a browser's POST), and nothing else: the processor's own writes under
# files/ are no events. S3 sends one s3:TestEvent when this is put, which the processor recognises and
# deletes.
resource "aws_s3_bucket_notification" "attachments" {
  count = local.attachments ? 1 : 0

  bucket = aws_s3_bucket.attachments[0].id

  queue {
    id            = "uploads"
    queue_arn     = aws_sqs_queue.media[0].arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "uploads/"
  }

  # S3 checks that it may send to the queue when the notification is put.
  depends_on = [aws_sqs_queue_policy.media]
}

# The media processor (media/, crate chat-media) on Lambda, invoked by the event source mapping below through
# its alias. It reaches S3 and the HTTP API, nothing in a VPC, so it runs outside one even with PostgreSQL.
module "media_function" {
  source = "../lambda-function"
  count  = local.attachments ? 1 : 0

  name                 = "${local.name}-media"
  description          = "Booking chat media processor: checks each upload's real type, strips images' metadata, makes thumbnails, reports to the backend"
  package_path         = var.media_package_path
  architecture         = var.lambda_architecture
  memory_size          = var.attachments.memory_size
  timeout_seconds      = local.media_timeout_seconds
  reserved_concurrency = var.attachments.reserved_concurrency
  environment          = local.media_environment
  secrets              = { SERVICE_TOKEN = local.service_token }
  secret_kms_key_arn   = var.secret_kms_key_arn
  policy_statements    = local.media_statements
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = var.log_kms_key_arn
  system_log_level     = var.lambda_system_log_level
  tags                 = var.tags
}

# One upload per invocation: the photos of one message are processed side by side rather than one after
# another in a batch (a member waits for the last), and an execution environment holds one decoded image at
# a time. The function still reports a failed item (ReportBatchItemFailures) rather than failing, as the
# notifier does. maximum_concurrency caps the invocations at once, so that a burst waits in the queue.
resource "aws_lambda_event_source_mapping" "media" {
  count = local.attachments ? 1 : 0

  event_source_arn        = aws_sqs_queue.media[0].arn
  function_name           = module.media_function[0].alias_arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.attachments.maximum_concurrency
  }
}
