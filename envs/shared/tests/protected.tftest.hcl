# What every environment but dev must have, run by envs/staging and envs/prod (their tests link this file):
# someone told when an alarm fires. The topic is the deployment's, never committed: these runs give one.
mock_provider "aws" {
  source          = "../../terraform/testing/aws"
  override_during = plan
}

variables {
  lambda_package_path  = "main.tf" # any file: the plan only hashes it
  backend_package_path = "backend.tf"
  cors_allowed_origins = []
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
