# The chat store of the backend function on DynamoDB (CHAT_STORE=dynamodb): one table for bookings, messages,
# reactions, receipts and rate-limit buckets (single-table design; the backend's store owns the layout).
# Keys are generic: partition key `pk`, sort key `sk`, both strings, and one global secondary index `gsi1`
# (`gsi1pk`, `gsi1sk`, every attribute projected) for what is looked up by user rather than by booking.
# Items that should go away by themselves (rate-limit buckets, idempotency records) carry `ttl` (epoch
# seconds). Access is conditional writes, transactions and Query: the backend's role has no Scan.
resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  # Per-user lookups (a user's bookings). ALL: the index answers without a read of the table per item.
  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # enabled = true is KMS encryption: the AWS managed key aws/dynamodb, or kms_key_arn when set.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# As on the connections table: ThrottledRequests is per table *and* operation, the read and write throttle
# events are per table, and FILL makes a side without data 0 so that either side alone alarms.
resource "aws_cloudwatch_metric_alarm" "throttled" {
  alarm_name          = "${var.name}-throttled"
  alarm_description   = "Requests to the chat table are throttled: messages, history or booking changes are failing."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "throttled"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "Throttle events"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      stat        = "Sum"
      period      = 300
      dimensions  = { TableName = aws_dynamodb_table.this.name }
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      stat        = "Sum"
      period      = 300
      dimensions  = { TableName = aws_dynamodb_table.this.name }
    }
  }
}
