mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name                            = "chat-proxy-test"
  package_path                    = "main.tf" # any file: the hash is all the plan needs
  backend_url                     = "https://chat.internal.example.com"
  proxy_secret_ssm_parameter_name = "/chat/test/proxy-secret"
  connections_table_name          = "chat-connections-test"
  connections_table_arn           = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"
  api_execution_arn               = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  stage_name                      = "test"
}

run "runtime_architecture_and_handler" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function runs the bootstrap binary on provided.al2023"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "arm64 is the default architecture"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("main.tf")
    error_message = "source_code_hash follows the package"
  }
  assert {
    condition     = aws_lambda_function.this.timeout <= 29
    error_message = "the function never outlives API Gateway's integration timeout"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.name == "/aws/lambda/chat-proxy-test"
    error_message = "the function has its own log group with retention"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "no reserved concurrency unless asked"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing is on by default"
  }
}

run "the_secret_is_read_by_name_never_passed_in_plain_text" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PROXY_SECRET_SSM_PARAMETER"] == "/chat/test/proxy-secret"
    error_message = "the function gets the parameter's name"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "PROXY_SECRET")
    error_message = "the secret's value never appears in the configuration"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Action == ["ssm:GetParameter"] && s.Resource == ["arn:aws:ssm:eu-west-1:123456789012:parameter/chat/test/proxy-secret"]])
    error_message = "the function may read exactly its parameter"
  }
}

run "the_policy_is_least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([for s in jsondecode(output.policy_json).Statement :
    [for a in s.Action : !strcontains(lower(a), "scan") && !strcontains(a, "*")]]))
    error_message = "no Scan and no wildcard actions"
  }
  assert {
    condition = alltrue([for s in jsondecode(output.policy_json).Statement :
    s.Sid == "Tracing" || !contains(s.Resource, "*")])
    error_message = "only X-Ray, which has no resource-level permissions, may use a wildcard resource"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Sid == "ConnectionRecords" && toset(s.Action) == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]) && s.Resource == [var.connections_table_arn]])
    error_message = "exactly the DynamoDB actions the code uses, on this table only"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
      s.Action == ["execute-api:ManageConnections"] && s.Resource == [
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/DELETE/@connections/*",
    ]])
    error_message = "@connections only on this API and stage"
  }
}

run "secrets_manager_instead_of_ssm" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy-AbCdEf"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PROXY_SECRET_SECRETS_MANAGER_ID"] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy-AbCdEf"
    error_message = "the function gets the secret's ARN"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.policy_json).Statement : contains(s.Action, "ssm:GetParameter")])
    error_message = "no SSM access when the secret is in Secrets Manager"
  }
}

run "both_secret_sources_are_refused" {
  command = plan
  variables {
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy-AbCdEf"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_timeout_beyond_api_gateways_is_refused" {
  command = plan
  variables {
    timeout_seconds = 60
  }
  expect_failures = [var.timeout_seconds]
}

run "reserved_concurrency_reaches_the_function" {
  command = plan
  variables {
    reserved_concurrency = 50
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 50
    error_message = "reserved concurrency is applied when set"
  }
}
