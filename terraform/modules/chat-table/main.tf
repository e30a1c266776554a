# The chat store of the backend function on DynamoDB (CHAT_STORE=dynamodb): one table for bookings, messages,
# idempotency keys, reactions, read positions, presence, memberships and rate-limit windows (single-table
# design; the chat store (crate chat-store) owns the layout, store/src/dynamodb.rs and docs/chat-store.md).
# Keys are generic: partition key `pk`, sort key `sk`, both strings, and one global secondary index `gsi1`
# (`gsi1pk`, `gsi1sk`, every attribute projected) for what is looked up by user rather than by booking.
# Items that should go away by themselves (rate-limit windows, lapsed presence records) carry `ttl` (epoch
# seconds). Access is key lookups, conditional writes, transactions, Query and the inbox's batches: the
# backend's role has no Scan.
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

  # Per-user lookups (a user's bookings, the inbox's memberships). ALL: the index answers without a read of
  # the table per item.
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
