# What every environment but dev must have, run by envs/staging and envs/prod (their tests link this file):
# someone told when an alarm fires, and browsers allowed to upload attachments. The topic and the origins
# are the deployment's, never committed: these runs give them.
mock_provider "aws" {
  source          = "../../terraform/testing/aws"
  override_during = plan
}

variables {
  lambda_package_path  = "main.tf" # any file: the plan only hashes it
  backend_package_path = "backend.tf"
  media_package_path   = "versions.tf"
  cors_allowed_origins = ["https://app.booking.internal"]
  alarm_topic_arn      = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
}

run "alarms_without_a_topic_are_refused" {
  command = plan
  variables {
    alarm_topic_arn = null
  }
  expect_failures = [var.alarm_topic_arn]
}

run "a_topic_in_another_region_is_refused" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:booking-chat-alarms"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "a_topic_name_instead_of_its_arn_is_refused" {
  command = plan
  variables {
    alarm_topic_arn = "booking-chat-alarms"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "with_a_topic_the_environment_plans" {
  command = plan
  assert {
    condition     = var.alarm_topic_arn == "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms" && var.table_deletion_protection
    error_message = "a topic in the region is accepted, and the tables are protected"
  }
}

run "attachments_without_browser_origins_are_refused" {
  command = plan
  variables {
    cors_allowed_origins = []
  }
  expect_failures = [var.attachments]
}

run "the_buckets_own_origins_are_enough" {
  command = plan
  variables {
    cors_allowed_origins = []
    attachments          = { allowed_origins = ["https://chat.booking.internal"] }
  }
  assert {
    condition     = module.booking_chat.attachments_allowed_origins == tolist(["https://chat.booking.internal"])
    error_message = "attachments.allowed_origins serve where the HTTP API has none"
  }
}

run "without_attachments_no_origins_is_still_a_choice" {
  command = plan
  variables {
    cors_allowed_origins = []
    attachments          = null
  }
  assert {
    condition     = output.attachments_bucket_name == null && output.http_api_url != null
    error_message = "[] deploys the HTTP API without CORS, and no bucket"
  }
}
