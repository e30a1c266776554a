# Connection records of the WebSocket API (see docs/connection-records.md and connections/src/store/dynamodb.rs):
# partition key booking_id, sort key connection_id, both strings; each connection is one item, written with
# one PutItem at $connect and removed with one DeleteItem, and a booking's connections are one Query of its
# partition. Nothing is read by connection id: the $connect authorizer's context carries the booking and
# user on every event. Records expire through TTL on `ttl` (epoch seconds).
resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "booking_id"
  range_key                   = "connection_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "booking_id"
    type = "S"
  }

  attribute {
    name = "connection_id"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# ThrottledRequests is published per table *and* operation; the read and write throttle events are per table.
# A metric has no datapoint in a period without throttling, and `reads + writes` is then empty too, even
# when the other side throttled: FILL makes each side 0 where it has no data.
resource "aws_cloudwatch_metric_alarm" "throttled" {
  alarm_name          = "${var.name}-throttled"
  alarm_description   = "Requests to the connections table are throttled: connects, messages or fan-outs are failing."
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
