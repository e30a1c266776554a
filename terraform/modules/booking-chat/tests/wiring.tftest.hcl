# The composition with a mocked AWS provider: what the environment roots pass in reaches the modules.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  environment                     = "test"
  backend_url                     = "https://chat-backend.internal"
  proxy_secret_ssm_parameter_name = "/booking-chat/test/proxy-secret"
  lambda_package_path             = "main.tf" # any file: the plan only hashes it
  throttling_burst_limit          = 50
  throttling_rate_limit           = 25
  log_retention_days              = 7
  table_deletion_protection       = false
}

run "the_secrets_kms_key_reaches_the_functions_policy" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]])
    error_message = "secret_kms_key_arn must reach the proxy function (kms:Decrypt on the key)"
  }
}

run "the_architecture_reaches_the_function" {
  command = plan
  variables {
    lambda_architecture = "x86_64"
  }

  assert {
    condition     = output.function_architecture == "x86_64"
    error_message = "lambda_architecture must reach the function"
  }
}

run "the_api_invokes_the_published_alias" {
  command = plan

  assert {
    condition     = output.function_alias == "live" && output.function_version == "1"
    error_message = "the alias and the version it points at are outputs, for rollbacks"
  }
}

run "the_proxy_may_put_delete_and_query_only_its_own_table" {
  command = plan

  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
      s.Action == ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/mock"]])
    error_message = "the connections table's ARN reaches the proxy's policy, with exactly PutItem, DeleteItem and Query"
  }
}
