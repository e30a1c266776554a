# The prod root with a mocked AWS provider: its sizing, and the outputs operators and make smoke use.
mock_provider "aws" {
  source          = "../../terraform/testing/aws"
  override_during = plan
}

variables {
  lambda_package_path  = "main.tf" # any file: the plan only hashes it
  backend_package_path = "backend.tf"
  cors_allowed_origins = []
}

run "prod_is_sized_for_its_purpose" {
  command = plan

  assert {
    condition     = var.table_deletion_protection == true
    error_message = "deletion protection of the connections table in prod"
  }
  assert {
    condition     = var.log_retention_days == 90
    error_message = "log retention in prod"
  }
  assert {
    condition     = var.throttling_burst_limit == 1000 && var.throttling_rate_limit == 500
    error_message = "stage throttling in prod"
  }
  assert {
    condition     = var.http_throttling_burst_limit == 500 && var.http_throttling_rate_limit == 250
    error_message = "HTTP API throttling in prod"
  }
  assert {
    condition     = var.lambda_reserved_concurrency == null
    error_message = "no reserved concurrency committed: Lambda refuses reservations on accounts with a low concurrency quota"
  }
  assert {
    condition     = var.proxy_secret_ssm_parameter_name == "/booking-chat/prod/proxy-secret"
    error_message = "the proxy secret is read from the environment's own SSM parameter"
  }
}

run "prod_outputs_name_the_stage_and_its_resources" {
  command = plan

  assert {
    condition     = output.websocket_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "the stage is named after the environment"
  }
  assert {
    condition     = output.management_endpoint == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "the Management API endpoint of the stage"
  }
  assert {
    condition     = output.connections_table_name == "booking-chat-prod-connections" && output.function_name == "booking-chat-prod-proxy"
    error_message = "resources are named after the environment"
  }
  assert {
    condition     = output.function_alias == "live" && output.function_architecture == "arm64"
    error_message = "API Gateway invokes the alias of an arm64 function by default"
  }
  assert {
    condition     = output.backend_function_name == "booking-chat-prod-backend" && output.chat_table_name == "booking-chat-prod-chat"
    error_message = "the backend function and its chat table, named after the environment"
  }
}

run "prod_logs_access_and_execution" {
  command = plan

  assert {
    condition     = var.access_logging && var.execution_logging_level != "OFF"
    error_message = "access and execution logging are on (the account root gives API Gateway its role first)"
  }
}
