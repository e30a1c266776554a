# Connection records of the WebSocket API (see docs/connection-records.md and connections/src/store/dynamodb.rs):
# partition key booking_id, sort key connection_id, both strings; a connection is one item per booking it
# follows (a user connection one in each of its user's bookings, written and deleted with BatchWriteItem),
# and a booking's connections are one Query of its partition. Nothing looks a record up by connection id
# alone: the $connect authorizer's context carries the booking and user on every event, and a connection
# renewed by `refresh` is read and updated by its full key. Records expire through TTL on `ttl` (epoch
# seconds).
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
