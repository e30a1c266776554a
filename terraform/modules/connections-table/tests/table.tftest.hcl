mock_provider "aws" {}

variables {
  name = "chat-connections-test"
}

run "keys_ttl_recovery_encryption_and_on_demand" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "booking_id" && aws_dynamodb_table.this.range_key == "connection_id"
    error_message = "keys must be booking_id (partition) and connection_id (sort), as docs/connection-records.md says"
  }
  assert {
    condition     = alltrue([for a in aws_dynamodb_table.this.attribute : a.type == "S"])
    error_message = "both keys are strings"
  }
  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "ttl"
    error_message = "TTL must be on, on the attribute ttl"
  }
  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "the table is on-demand"
  }
  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "point-in-time recovery must be on"
  }
  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled
    error_message = "encryption at rest must be on"
  }
  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion protection is on unless switched off"
  }
}

run "deletion_protection_can_be_switched_off" {
  command = plan
  variables {
    deletion_protection = false
  }
  assert {
    condition     = !aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion_protection = false must reach the table"
  }
}

run "a_malformed_table_name_is_refused" {
  command = plan
  variables {
    name = "no spaces allowed"
  }
  expect_failures = [var.name]
}
