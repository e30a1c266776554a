# The chat rules (chat_rules) with a mocked AWS provider: the backend function always gets all four, the
# code's defaults unless asked; an empty status list is "none" (the backend reads an empty variable as
# unset); and the refusals, each of a value the backend would refuse to start on or read otherwise.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  cors_allowed_origins             = ["https://app.booking.internal"]
  environment                      = "test"
  proxy_secret_ssm_parameter_name  = "/booking-chat/test/proxy-secret"
  jwt_secret_ssm_parameter_name    = "/booking-chat/test/jwt-secret"
  service_token_ssm_parameter_name = "/booking-chat/test/service-token"
  lambda_package_path              = "main.tf" # any file: the plan only hashes it
  backend_package_path             = "outputs.tf"
  throttling_burst_limit           = 50
  throttling_rate_limit            = 25
  log_retention_days               = 7
  table_deletion_protection        = false
}

run "by_default_the_backend_gets_the_codes_defaults_spelled_out" {
  command = plan

  assert {
    condition = tomap({ for key, value in output.backend_environment : key => value if startswith(key, "CONTACT_") || startswith(key, "CHAT_READ_ONLY") }) == tomap({
      CONTACT_MASK_STATUSES        = "requested"
      CONTACT_MASK_KINDS           = "phone,email,link,handle"
      CONTACT_PHONE_REGIONS        = "US,GB,FR,DE,ES,IT,NL"
      CHAT_READ_ONLY_AFTER_SECONDS = "604800"
    })
    error_message = "the four rules, as the backend's own defaults (backend/src/config.rs): masked while requested, every kind, the marketplace's seven regions, writable for 7 days after a booking closes"
  }
  assert {
    condition     = !anytrue([for key in keys(output.proxy_environment) : startswith(key, "CONTACT_") || startswith(key, "CHAT_")])
    error_message = "the proxy does not read the chat rules"
  }
}

run "a_customised_set_reaches_the_backend_comma_separated_in_order" {
  command = plan
  variables {
    chat_rules = {
      contact_mask_statuses   = ["requested", "confirmed"]
      contact_mask_kinds      = ["phone", "email"]
      contact_phone_regions   = ["FR", "BE", "CH"]
      read_only_after_seconds = 0
    }
  }

  assert {
    condition = (output.backend_environment["CONTACT_MASK_STATUSES"] == "requested,confirmed"
      && output.backend_environment["CONTACT_MASK_KINDS"] == "phone,email"
      && output.backend_environment["CONTACT_PHONE_REGIONS"] == "FR,BE,CH"
    && output.backend_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "0")
    error_message = "each list joined with commas, regions in the order given (the backend tries them in order); 0: read-only at once"
  }
}

run "one_rule_set_leaves_the_others_at_their_defaults" {
  command = plan
  variables {
    chat_rules = { read_only_after_seconds = 31536000 }
  }

  assert {
    condition = (output.backend_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "31536000"
      && output.backend_environment["CONTACT_MASK_STATUSES"] == "requested"
      && output.backend_environment["CONTACT_MASK_KINDS"] == "phone,email,link,handle"
    && output.backend_environment["CONTACT_PHONE_REGIONS"] == "US,GB,FR,DE,ES,IT,NL")
    error_message = "a year, written out in digits; the other three the defaults"
  }
}

run "no_masking_statuses_is_none" {
  command = plan
  variables {
    chat_rules = { contact_mask_statuses = [] }
  }

  assert {
    condition     = output.backend_environment["CONTACT_MASK_STATUSES"] == "none"
    error_message = "an empty list is passed as none: an empty CONTACT_MASK_STATUSES would be read as unset, masking while requested"
  }
}

run "null_chat_rules_are_the_defaults" {
  command = plan
  variables {
    chat_rules = null
  }

  assert {
    condition     = output.backend_environment["CONTACT_MASK_STATUSES"] == "requested" && output.backend_environment["CHAT_READ_ONLY_AFTER_SECONDS"] == "604800"
    error_message = "null is {} (a root passing an unset value through)"
  }
}

# Refused at plan time.

run "an_unknown_status_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_mask_statuses = ["requested", "pending"] }
  }
  expect_failures = [var.chat_rules]
}

run "none_as_a_status_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_mask_statuses = ["none"] }
  }
  expect_failures = [var.chat_rules]
}

run "a_capitalised_status_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_mask_statuses = ["Requested"] }
  }
  expect_failures = [var.chat_rules]
}

run "an_unknown_kind_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_mask_kinds = ["phone", "url"] }
  }
  expect_failures = [var.chat_rules]
}

run "no_kinds_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_mask_kinds = [] }
  }
  expect_failures = [var.chat_rules]
}

run "a_lower_case_region_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_phone_regions = ["US", "gb"] }
  }
  expect_failures = [var.chat_rules]
}

run "a_region_that_is_not_two_letters_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_phone_regions = ["GBR"] }
  }
  expect_failures = [var.chat_rules]
}

run "a_two_letter_code_the_phone_metadata_does_not_know_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_phone_regions = ["FR", "UK"] }
  }
  expect_failures = [var.chat_rules]
}

run "no_regions_is_refused" {
  command = plan
  variables {
    chat_rules = { contact_phone_regions = [] }
  }
  expect_failures = [var.chat_rules]
}

run "negative_seconds_are_refused" {
  command = plan
  variables {
    chat_rules = { read_only_after_seconds = -1 }
  }
  expect_failures = [var.chat_rules]
}

run "more_than_a_year_is_refused" {
  command = plan
  variables {
    chat_rules = { read_only_after_seconds = 31536001 }
  }
  expect_failures = [var.chat_rules]
}

run "fractional_seconds_are_refused" {
  command = plan
  variables {
    chat_rules = { read_only_after_seconds = 3600.5 }
  }
  expect_failures = [var.chat_rules]
}

run "chat_rules_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    chat_rules                       = { contact_mask_statuses = [] }
  }
  expect_failures = [var.chat_rules]
}

run "a_backend_elsewhere_without_chat_rules_plans" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
  }

  assert {
    condition     = output.backend_environment == null
    error_message = "no backend function, and the default chat rules refused nothing"
  }
}
