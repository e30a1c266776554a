# What each function's work needs, beyond what module lambda-function grants every function (its own log
# group, its secrets by name, X-Ray, and in a VPC its network interfaces). Least privilege, checked against
# the code: connections/src/store/dynamodb.rs, connections/src/gateway.rs, store/src/dynamodb.rs, the
# backend's event publishing (docs/events.md), the notifier (notifier/), the attachments' file store
# (files/, the S3 adapter) and media processor (media/), and the retention job (the backend's package with
# CHAT_JOB=retention). The schedule's own execution role is in retention.tf.
locals {
  # With attachments and a customer managed key on their bucket: S3 encrypts each object written (through
  # the backend's signed upload form, or by the processor) with a data key from GenerateDataKey, and
  # decrypts each one read (a signed download, the processor's read of an upload) with Decrypt, both as the
  # caller. Nothing without a key: SSE-S3 needs no permission.
  attachments_key = local.attachments_kms ? [{
    Sid      = "AttachmentsKey"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [var.attachments.kms_key_arn]
  }] : []

  # The fan-out, which both functions run (connections/src/fanout.rs): a booking's connections are one Query
  # of its partition; a connection API Gateway answers 410 Gone for loses its record (DeleteItem); one whose
  # token has expired is told, closed (DeleteConnection) and forgotten (DeleteItem). PostToConnection and
  # DeleteConnection are POST and DELETE on @connections of this API's stage, and nothing else of it.
  manage_connections = {
    Sid    = "ManageConnections"
    Action = ["execute-api:ManageConnections"]
    Resource = [
      "${module.websocket_api.execution_arn}/${var.environment}/POST/@connections/*",
      "${module.websocket_api.execution_arn}/${var.environment}/DELETE/@connections/*",
    ]
  }

  proxy_statements = concat(
    [
      {
        # One item per connection and booking: PutItem at $connect, DeleteItem at $disconnect and for gone or
        # expired connections, Query of a booking's partition per fan-out; a user connection's item in each of
        # its bookings, written and deleted with BatchWriteItem; GetItem for a frame on a connection whose
        # $connect token has expired (did a `refresh` renew it?), UpdateItem when `refresh` renews one (its
        # TTL moved), both by the record's full key. No Scan anywhere.
        Sid      = "ConnectionRecords"
        Action   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = [module.connections_table.arn]
      },
      local.manage_connections,
    ],
    local.backend_function ? [{
      # The alias ARN exactly: invoking $LATEST, a version or another alias of the function is denied.
      Sid      = "InvokeBackend"
      Action   = ["lambda:InvokeFunction"]
      Resource = [module.backend_function[0].alias_arn]
    }] : [],
  )

  backend_statements = concat(
    local.chat_table ? [
      {
        # Item reads and conditional writes (store/src/dynamodb.rs), its one transaction included: a
        # message with the booking's counter and its idempotency key, which TransactWriteItems authorises per
        # item, as UpdateItem and PutItem (no ConditionCheck in it, so no ConditionCheckItem); Query of a
        # booking's items; and the inbox: a booking's membership items written in one batch, a user's
        # bookings read in one. No Scan.
        Sid = "ChatTable"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:Query",
          "dynamodb:BatchWriteItem",
          "dynamodb:BatchGetItem",
        ]
        Resource = [module.chat_table[0].arn]
      },
      {
        # An index can only be queried (or scanned): item actions on it mean nothing.
        Sid      = "ChatTableIndexes"
        Action   = ["dynamodb:Query"]
        Resource = [module.chat_table[0].gsi1_arn]
      },
    ] : [],
    [
      {
        # The backend's pushes (connections/src/fanout.rs): Query a booking's connections (and a user's user
        # connections, under USER#{user}), DeleteItem gone, expired or removed members' ones, PutItem a new
        # member's user connection into the booking it joined (adopt).
        Sid      = "ConnectionRecords"
        Action   = ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem"]
        Resource = [module.connections_table.arn]
      },
      local.manage_connections,
    ],
    var.chat_events ? [{
      # The chat's events (docs/events.md): PutEvents to this environment's bus, which IAM authorises on the
      # bus's ARN; nothing else of EventBridge (no rules, no other bus).
      Sid      = "PublishChatEvents"
      Action   = ["events:PutEvents"]
      Resource = [aws_cloudwatch_event_bus.chat_events[0].arn]
    }] : [],
    local.attachments ? concat([
      {
        # The backend signs each browser's upload form (a POST policy for one key under uploads/) with its
        # own credentials, and S3 authorises the upload as PutObject by the signer: the form can be no wider
        # than this (a POST is never a delete). It deletes an upload when the operator erases its member or
        # the retention job's pass runs through it (docs/privacy.md); it never reads or lists one.
        Sid      = "AttachmentUploads"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = ["${local.attachments_bucket_arn}/uploads/*"]
      },
      {
        # Processed files: a download URL is a signed GetObject; a deleted or hidden message's files are
        # deleted; a file a message takes is tagged state=referenced, out of the lifecycle rule's reach. No
        # ListBucket (keys are known from the attachments' records), nothing on the bucket itself.
        Sid      = "AttachmentFiles"
        Action   = ["s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging"]
        Resource = ["${local.attachments_bucket_arn}/files/*"]
      },
    ], local.attachments_key) : [],
  )

  # The media processor (media/): its queue, the uploads it reads and deletes, the files it writes tagged.
  # It reports to the backend over HTTPS with the service token (a secret, granted by module
  # lambda-function): no IAM for that.
  media_statements = local.attachments ? concat([
    {
      # The event source mapping receives and deletes with the function's role, and reads the queue's
      # attributes (AWSLambdaSQSQueueExecutionRole's three actions); the function sends nothing.
      Sid      = "MediaQueue"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = [aws_sqs_queue.media[0].arn]
    },
    {
      # The upload an event names, read (HeadObject is GetObject's) and deleted once processed.
      Sid      = "Uploads"
      Action   = ["s3:GetObject", "s3:DeleteObject"]
      Resource = ["${local.attachments_bucket_arn}/uploads/*"]
    },
    {
      # Without ListBucket S3 answers a key that is gone (an upload processed already, whose event S3
      # delivered twice) with 403 AccessDenied, which the processor cannot tell from a denial: it would
      # retry it into the dead-letter queue. With it, 404, acknowledged. It reveals only keys: the role
      # reads every upload anyway, and the files' keys are ids it writes itself.
      Sid      = "UploadsGone"
      Action   = ["s3:ListBucket"]
      Resource = [local.attachments_bucket_arn]
    },
    {
      # The file and its thumbnail, written with their tag state=unreferenced (a PutObject with tags needs
      # PutObjectTagging too).
      Sid      = "Files"
      Action   = ["s3:PutObject", "s3:PutObjectTagging"]
      Resource = ["${local.attachments_bucket_arn}/files/*"]
    },
  ], local.attachments_key) : []

  # The notifier (notifier/): the chat store as the backend reads it, its own two small kinds of items
  # there, the notifications queue, and SES. Web Push needs nothing of IAM but reading the VAPID private key
  # (a secret, granted by module lambda-function): its requests go to the push services over HTTPS.
  notifier_statements = local.notifications ? concat(
    local.chat_table ? [{
      # The booking, the member's settings and the last notification (GetItem); the booking's presence,
      # read positions and newest messages, and the unread count (Query); its claim, written and released
      # with conditions (PutItem, DeleteItem). No gsi1, no batch, no UpdateItem, no Scan: a call outside
      # these is denied, and needs adding here.
      Sid      = "ChatTable"
      Action   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      Resource = [module.chat_table[0].arn]
    }] : [],
    [
      {
        # The event source mapping receives, deletes and makes visible again with the function's role, and
        # reads the queue's attributes; the function itself sends delayed messages to wait.
        Sid      = "NotificationsQueue"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"]
        Resource = [aws_sqs_queue.notifications[0].arn]
      },
      {
        # SES v2 SendEmail with Raw content is authorised as ses:SendRawEmail (with Simple content, as
        # ses:SendEmail), on the identity it sends as and the configuration set it names: nothing else.
        Sid      = "SendEmail"
        Action   = ["ses:SendEmail", "ses:SendRawEmail"]
        Resource = compact([local.ses_identity_arn, local.ses_configuration_set_arn])
      },
    ],
  ) : []

  # The retention job (retention.tf; backend/src/chat/user_data.rs run_retention, store/src/
  # dynamodb_user_data.rs): it finds the bookings due (Query of the partition RETAIN of gsi1), reads each
  # one's booking item (GetItem; GetItem of the PING item at cold start) and items (Query of its partition),
  # deletes its messages, reactions, idempotency keys, read positions, notification claims and attachments'
  # records (BatchWriteItem, and DeleteItem for each attachment's record), and marks the booking purged
  # (UpdateItem). A pass that deleted anything appends one entry to the audit log (a conditional PutItem,
  # never over another item): PutItem on the audit log's partition, AUDIT, alone (dynamodb:LeadingKeys), so
  # it can write nothing else. No Scan, no BatchGetItem. With attachments it deletes each one's objects,
  # the upload (uploads/) and the stored file and thumbnail (files/), and nothing else of the bucket; a
  # delete needs no KMS key, whatever the bucket's encryption. Each part is a list of its own: statements
  # with and without a Condition have different types.
  retention_statements = concat(
    local.chat_table ? [
      {
        Sid      = "ChatTable"
        Action   = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
        Resource = [module.chat_table[0].arn]
      },
      {
        Sid      = "ChatTableIndexes"
        Action   = ["dynamodb:Query"]
        Resource = [module.chat_table[0].gsi1_arn]
      },
    ] : [],
    local.chat_table ? [{
      Sid       = "AuditLog"
      Action    = ["dynamodb:PutItem"]
      Resource  = [module.chat_table[0].arn]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["AUDIT"] } }
    }] : [],
    local.attachments ? [{
      Sid      = "AttachmentObjects"
      Action   = ["s3:DeleteObject"]
      Resource = ["${local.attachments_bucket_arn}/uploads/*", "${local.attachments_bucket_arn}/files/*"]
    }] : [],
  )
}
