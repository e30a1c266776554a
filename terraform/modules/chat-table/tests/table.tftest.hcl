mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name = "chat-store-test"
}

run "keys_index_ttl_recovery_encryption_and_on_demand" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk"
    error_message = "single-table keys: pk (partition) and sk (sort)"
  }
  assert {
    condition     = { for a in aws_dynamodb_table.this.attribute : a.name => a.type } == { pk = "S", sk = "S", gsi1pk = "S", gsi1sk = "S" }
    error_message = "exactly the four key attributes, all strings"
  }
  assert {
    condition = [for i in aws_dynamodb_table.this.global_secondary_index : [i.name, i.hash_key, i.range_key, i.projection_type]] == [
      ["gsi1", "gsi1pk", "gsi1sk", "ALL"],
    ]
    error_message = "one index, gsi1 on gsi1pk/gsi1sk, projecting every attribute"
  }
  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "ttl"
    error_message = "TTL must be on, on the attribute ttl"
  }
  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "the table is on-demand: nothing to pay while idle"
  }
  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "point-in-time recovery must be on: the table holds every message"
  }
  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled
    error_message = "KMS encryption at rest (the AWS managed key unless a key is given)"
  }
  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion protection is on unless switched off"
  }
  assert {
    condition     = output.gsi1_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/mock/index/gsi1"
    error_message = "the index ARN, for a policy that may Query it"
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

run "a_customer_managed_key_encrypts_the_table" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "kms_key_arn must reach the table"
  }
}

run "a_kms_alias_is_refused" {
  command = plan
  variables {
    kms_key_arn = "alias/chat"
  }
  expect_failures = [var.kms_key_arn]
}

run "a_malformed_table_name_is_refused" {
  command = plan
  variables {
    name = "no spaces allowed"
  }
  expect_failures = [var.name]
}
