# One function with a mocked AWS provider: how it runs and is published, what its role allows beyond its
# caller's statements, and how its secrets reach it. What each of the project's two functions is given
# (environment, statements) and which of its metrics alarm is module booking-chat's, and tested there.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name            = "chat-function-test"
  description     = "A test function"
  package_path    = "main.tf" # any file: the hash is all the plan needs
  timeout_seconds = 10
  environment     = { CONNECTIONS_TABLE = "chat-connections-test" }
  secrets = {
    JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret" }
    PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
    SERVICE_TOKEN = { secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token-AbCdEf" }
  }
  policy_statements = [{
    Sid      = "ConnectionRecords"
    Action   = ["dynamodb:Query", "dynamodb:DeleteItem"]
    Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"]
  }]
}

run "runtime_architecture_handler_log_group_and_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function runs the bootstrap binary on provided.al2023"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && output.architecture == "arm64"
    error_message = "arm64 is the default architecture"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("main.tf")
    error_message = "source_code_hash follows the package"
  }
  assert {
    condition     = aws_lambda_function.this.timeout == 10 && aws_lambda_function.this.description == "A test function"
    error_message = "the caller's timeout and description"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.name == "/aws/lambda/chat-function-test"
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
  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0
    error_message = "no VPC without subnets"
  }
}

run "every_apply_publishes_a_version_and_the_alias_points_at_it" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.publish
    error_message = "publish must be on, or there is no version to roll back to"
  }
  assert {
    condition     = aws_lambda_alias.this.name == "live" && aws_lambda_alias.this.function_version == aws_lambda_function.this.version
    error_message = "the alias points at the version this apply published"
  }
  assert {
    condition     = output.invoke_arn == aws_lambda_alias.this.invoke_arn && output.alias_arn == aws_lambda_alias.this.arn
    error_message = "callers get the alias, never $LATEST"
  }
}

run "the_environment_carries_secrets_by_name_never_by_value" {
  command = plan

  assert {
    condition = output.environment == tomap({
      CONNECTIONS_TABLE                = "chat-connections-test"
      JWT_SECRET_SSM_PARAMETER         = "/chat/test/jwt-secret"
      PROXY_SECRET_SSM_PARAMETER       = "/chat/test/proxy-secret"
      SERVICE_TOKEN_SECRETS_MANAGER_ID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token-AbCdEf"
    })
    error_message = "the caller's variables and each secret by name (SSM or Secrets Manager), never by value"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables == output.environment
    error_message = "the function gets that environment"
  }
  assert {
    condition     = !anytrue([for name in ["JWT_SECRET", "PROXY_SECRET", "SERVICE_TOKEN"] : contains(keys(output.environment), name)])
    error_message = "a secret's value never appears in the configuration"
  }
}

run "the_policy_is_its_logs_the_callers_statements_its_secrets_and_xray" {
  command = plan

  assert {
    condition = [for s in jsondecode(output.policy_json).Statement : s.Sid] == [
      "OwnLogs", "ConnectionRecords", "SecretParameters", "SecretsManagerSecrets", "Tracing",
    ]
    error_message = "these statements and no other (no VPC, no KMS without a key)"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "OwnLogs"
    && s.Action == ["logs:CreateLogStream", "logs:PutLogEvents"] && s.Resource == ["arn:aws:logs:eu-west-1:123456789012:log-group:mock:*"]])
    error_message = "its own log group only"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "ConnectionRecords" && s.Effect == "Allow"
    && s.Action == ["dynamodb:Query", "dynamodb:DeleteItem"] && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"]])
    error_message = "the caller's statement, as given, allowing"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "SecretParameters"
      && s.Action == ["ssm:GetParameter"] && toset(s.Resource) == toset([
        "arn:aws:ssm:eu-west-1:123456789012:parameter/chat/test/jwt-secret",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/chat/test/proxy-secret",
    ])])
    error_message = "exactly its SSM parameters"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "SecretsManagerSecrets"
    && s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token-AbCdEf"]])
    error_message = "exactly its Secrets Manager secret"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(output.policy_json).Statement :
    [for a in s.Action : !strcontains(lower(a), "scan") && !strcontains(a, "*")]]))
    error_message = "no Scan and no wildcard actions"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "Tracing" || !contains(s.Resource, "*")])
    error_message = "only X-Ray, which has no resource-level permissions, may use a wildcard resource here"
  }
}

run "a_statements_condition_is_kept_and_the_others_have_none" {
  command = plan
  variables {
    policy_statements = [
      {
        Sid      = "ConnectionRecords"
        Action   = ["dynamodb:Query", "dynamodb:DeleteItem"]
        Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"]
      },
      {
        Sid       = "AuditLog"
        Action    = ["dynamodb:PutItem"]
        Resource  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-test"]
        Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["AUDIT"] } }
      },
    ]
  }

  assert {
    condition = [for s in jsondecode(output.policy_json).Statement : s if s.Sid == "AuditLog"] == [{
      Sid       = "AuditLog"
      Effect    = "Allow"
      Action    = ["dynamodb:PutItem"]
      Resource  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-test"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["AUDIT"] } }
    }]
    error_message = "the caller's condition, as given"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.policy_json).Statement : !contains(keys(s), "Condition") if s.Sid != "AuditLog"])
    error_message = "no Condition, not even a null one, on a statement without one"
  }
}

run "secrets_manager_alone_needs_no_ssm" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy-AbCdEf" } }
  }
  assert {
    condition     = output.environment["PROXY_SECRET_SECRETS_MANAGER_ID"] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy-AbCdEf"
    error_message = "the function gets the secret's ARN"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.policy_json).Statement : contains(s.Action, "ssm:GetParameter")])
    error_message = "no SSM access when the secret is in Secrets Manager"
  }
}

run "a_secret_arn_in_another_partition_is_accepted" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { secrets_manager_arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:booking/chat-proxy-AbCdEf" } }
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == ["arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:booking/chat-proxy-AbCdEf"]])
    error_message = "the function may read exactly that secret"
  }
}

run "a_secret_from_both_sources_is_refused" {
  command = plan
  variables {
    secrets = { JWT_SECRET = { ssm_parameter_name = "/chat/test/jwt-secret", secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/jwt-AbCdEf" } }
  }
  expect_failures = [var.secrets]
}

run "a_secret_from_no_source_is_refused" {
  command = plan
  variables {
    secrets = { JWT_SECRET = {} }
  }
  expect_failures = [var.secrets]
}

run "a_secret_name_instead_of_an_arn_is_refused" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { secrets_manager_arn = "chat-proxy" } }
  }
  expect_failures = [var.secrets]
}

run "a_partial_secret_arn_is_refused" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy" } }
  }
  expect_failures = [var.secrets]
}

run "an_arn_of_another_service_is_refused" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { secrets_manager_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/chat-proxy-AbCdEf" } }
  }
  expect_failures = [var.secrets]
}

run "an_ssm_parameter_arn_instead_of_its_name_is_refused" {
  command = plan
  variables {
    secrets = { PROXY_SECRET = { ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/chat/test/proxy-secret" } }
  }
  expect_failures = [var.secrets]
}

run "the_secrets_kms_key_may_decrypt" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Sid == "DecryptSecrets" && s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]])
    error_message = "kms:Decrypt on exactly the secrets' key"
  }
}

run "no_kms_access_without_a_key" {
  command = plan
  assert {
    condition     = !anytrue([for s in jsondecode(output.policy_json).Statement : contains(s.Action, "kms:Decrypt")])
    error_message = "no kms:Decrypt unless the secrets have a customer managed key"
  }
}

run "a_kms_alias_is_refused" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/chat"
  }
  expect_failures = [var.secret_kms_key_arn]
}

run "a_wildcard_action_is_refused" {
  command = plan
  variables {
    policy_statements = [{ Sid = "Everything", Action = ["dynamodb:*"], Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"] }]
  }
  expect_failures = [var.policy_statements]
}

run "a_vpc_function_runs_in_its_subnets_and_may_create_its_interfaces" {
  command = plan
  variables {
    vpc_subnet_ids         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
  }

  assert {
    condition = (aws_lambda_function.this.vpc_config[0].subnet_ids == toset(["subnet-0a1b2c3d", "subnet-4e5f6a7b"])
    && aws_lambda_function.this.vpc_config[0].security_group_ids == toset(["sg-0123456789abcdef0"]))
    error_message = "the function runs in the given subnets with the given security groups"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "VpcNetworkInterfaces" && toset(s.Action) == toset([
      "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ])])
    error_message = "the network-interface actions of AWSLambdaVPCAccessExecutionRole"
  }
}

run "subnets_without_security_groups_are_refused" {
  command = plan
  variables {
    vpc_subnet_ids = ["subnet-0a1b2c3d"]
  }
  expect_failures = [var.vpc_security_group_ids]
}

run "a_queue_consumers_minute_is_accepted" {
  command = plan
  variables {
    timeout_seconds = 60
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 60
    error_message = "a function on an SQS queue (the media processor) may take longer than API Gateway waits: its callers bound the others"
  }
}

run "a_timeout_beyond_lambdas_is_refused" {
  command = plan
  variables {
    timeout_seconds = 901
  }
  expect_failures = [var.timeout_seconds]
}

run "zero_reserved_concurrency_is_refused" {
  command = plan
  variables {
    reserved_concurrency = 0
  }
  expect_failures = [var.reserved_concurrency]
}

run "fractional_reserved_concurrency_is_refused" {
  command = plan
  variables {
    reserved_concurrency = 1.5
  }
  expect_failures = [var.reserved_concurrency]
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

run "one_is_the_smallest_reservation" {
  command = plan
  variables {
    reserved_concurrency = 1
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 1
    error_message = "a reservation of 1 is valid"
  }
}

run "x86_64_reaches_the_function" {
  command = plan
  variables {
    architecture = "x86_64"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && output.architecture == "x86_64"
    error_message = "the architecture variable sets the function's architecture"
  }
}

run "the_text_log_format_unless_a_system_log_level_is_given" {
  command = plan

  assert {
    condition = (aws_lambda_function.this.logging_config[0].log_format == "Text"
      && aws_lambda_function.this.logging_config[0].system_log_level == null
    && aws_lambda_function.this.logging_config[0].application_log_level == null)
    error_message = "by default the text format, with Lambda's START, END and REPORT lines"
  }
}

run "a_system_log_level_turns_on_the_json_format_and_filters_only_lambdas_own_lines" {
  command = plan

  variables {
    system_log_level = "WARN"
  }

  assert {
    condition = (aws_lambda_function.this.logging_config[0].log_format == "JSON"
    && aws_lambda_function.this.logging_config[0].system_log_level == "WARN")
    error_message = "the JSON format, Lambda's own lines from WARN"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "TRACE"
    error_message = "Lambda filters none of the function's lines: RUST_LOG and LOG_SAMPLE_RATE decide them"
  }
}

run "a_system_log_level_lambda_does_not_have_is_refused" {
  command = plan

  variables {
    system_log_level = "ERROR"
  }

  expect_failures = [var.system_log_level]
}
