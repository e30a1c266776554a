mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name                   = "chat-backend-test"
  package_path           = "main.tf" # any file: the hash is all the plan needs
  app_env                = "test"
  chat_table_name        = "chat-store-test"
  chat_table_arn         = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-store-test"
  chat_table_index_arns  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-store-test/index/gsi1"]
  connections_table_name = "chat-connections-test"
  connections_table_arn  = "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"
  api_execution_arn      = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  stage_name             = "test"
  management_endpoint    = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
  secrets = {
    JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret" }
    PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
    SERVICE_TOKEN = { secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token-AbCdEf" }
  }
}

run "runtime_architecture_handler_and_published_alias" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function runs the bootstrap binary on provided.al2023"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_function.this.source_code_hash == filebase64sha256("main.tf")
    error_message = "arm64 by default, and source_code_hash follows the package"
  }
  assert {
    condition     = aws_lambda_function.this.timeout == 10 && aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "10 s, unreserved by default"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/chat-backend-test" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "the function has its own log group with retention"
  }
  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_alias.this.name == "live" && aws_lambda_alias.this.function_version == aws_lambda_function.this.version
    error_message = "every apply publishes a version, and the alias live points at it"
  }
  assert {
    condition     = output.alias_arn == aws_lambda_alias.this.arn && output.invoke_arn == aws_lambda_alias.this.invoke_arn
    error_message = "callers get the alias, never $LATEST"
  }
  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0
    error_message = "no VPC on the DynamoDB store"
  }
}

run "the_environment_is_the_contract_the_backend_reads" {
  command = plan

  assert {
    condition = output.environment == tomap({
      APP_ENV                          = "test"
      LOG_FORMAT                       = "json"
      RUST_LOG                         = "info"
      CHAT_STORE                       = "dynamodb"
      CHAT_TABLE                       = "chat-store-test"
      CONNECTIONS_TABLE                = "chat-connections-test"
      MANAGEMENT_ENDPOINT              = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
      METRICS_NAMESPACE                = "BookingChat"
      AWS_TIMEOUT_MS                   = "3000"
      JWT_SECRET_SSM_PARAMETER         = "/chat/test/jwt-secret"
      PROXY_SECRET_SSM_PARAMETER       = "/chat/test/proxy-secret"
      SERVICE_TOKEN_SECRETS_MANAGER_ID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token-AbCdEf"
    })
    error_message = "exactly the variables of the contract: secrets by name (SSM or Secrets Manager), never by value"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables == output.environment
    error_message = "the function gets that environment"
  }
}

run "an_identity_provider_is_given_to_the_backend_as_its_three_variables" {
  command = plan

  variables {
    identity_provider = {
      jwks_url = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
      issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
      audience = "client-id"
    }
  }

  assert {
    condition = (output.environment["JWT_JWKS_URL"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json"
      && output.environment["JWT_ISSUER"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    && output.environment["JWT_AUDIENCE"] == "client-id")
    error_message = "the provider's JWKS URL, issuer and audience, which the backend requires together"
  }
}

run "an_identity_provider_over_plain_http_or_without_an_audience_is_refused" {
  command = plan

  variables {
    identity_provider = { jwks_url = "http://idp.example.com/jwks.json", issuer = "https://idp.example.com/", audience = "" }
  }

  expect_failures = [var.identity_provider]
}

run "the_policy_allows_exactly_what_the_backend_does" {
  command = plan

  assert {
    condition = [for s in jsondecode(output.policy_json).Statement : s.Sid] == [
      "OwnLogs", "ChatTable", "ChatTableIndexes", "ConnectionRecords", "PostToConnections", "SecretParameters",
      "SecretsManagerSecrets", "Tracing",
    ]
    error_message = "these statements and no other (no VPC, no KMS without a key)"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "ChatTable"
      && s.Action == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"]
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-store-test"]])
    error_message = "the chat table: item reads and conditional writes (transactions are authorised per item: Put, Update, Delete, ConditionCheck), Query, and the inbox's batches"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "ChatTableIndexes"
    && s.Action == ["dynamodb:Query"] && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-store-test/index/gsi1"]])
    error_message = "the index gsi1: Query only"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "ConnectionRecords"
    && s.Action == ["dynamodb:Query", "dynamodb:DeleteItem"] && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/chat-connections-test"]])
    error_message = "the connections table: Query (a booking's connections) and DeleteItem (Gone cleanup), nothing else"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.policy_json).Statement : s.Action if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]))
    == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"]))
    error_message = "no other DynamoDB action anywhere: no Scan, no table management"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "PostToConnections"
    && s.Action == ["execute-api:ManageConnections"] && s.Resource == ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*"]])
    error_message = "PostToConnection on this API's stage only"
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
    error_message = "no Scan, no wildcard action"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.policy_json).Statement : s.Sid == "Tracing" || !contains(s.Resource, "*")])
    error_message = "only X-Ray, which has no resource-level permissions, may use a wildcard resource here"
  }
}

run "the_secrets_kms_key_may_decrypt" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == [var.secret_kms_key_arn]])
    error_message = "kms:Decrypt on exactly the secrets' key"
  }
}

run "postgres_runs_in_the_vpc_without_the_chat_table" {
  command = plan
  variables {
    chat_store             = "postgres"
    chat_table_name        = null
    chat_table_arn         = null
    chat_table_index_arns  = []
    vpc_subnet_ids         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    secrets = {
      JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret" }
      PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
      SERVICE_TOKEN = { ssm_parameter_name = "/chat/test/service-token" }
      DATABASE_URL  = { ssm_parameter_name = "/chat/test/database-url" }
    }
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
  assert {
    condition     = !anytrue([for s in jsondecode(output.policy_json).Statement : startswith(s.Sid, "ChatTable")])
    error_message = "no chat table access with PostgreSQL"
  }
  assert {
    condition = (output.environment["CHAT_STORE"] == "postgres" && output.environment["DATABASE_URL_SSM_PARAMETER"] == "/chat/test/database-url"
    && output.environment["DATABASE_MAX_CONNECTIONS"] == "2" && !contains(keys(output.environment), "CHAT_TABLE"))
    error_message = "CHAT_STORE=postgres, the database URL by name, a small pool per execution environment, no CHAT_TABLE"
  }
}

run "alarms_watch_errors_throttles_and_duration_near_the_timeout" {
  command = plan

  assert {
    condition = alltrue([for alarm in [aws_cloudwatch_metric_alarm.errors, aws_cloudwatch_metric_alarm.throttles, aws_cloudwatch_metric_alarm.duration] :
    alarm.namespace == "AWS/Lambda" && alarm.dimensions == tomap({ FunctionName = "chat-backend-test" })])
    error_message = "the function's own Lambda metrics"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors.metric_name == "Errors" && aws_cloudwatch_metric_alarm.throttles.metric_name == "Throttles"
    error_message = "errors and throttles"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration.extended_statistic == "p99" && aws_cloudwatch_metric_alarm.duration.threshold == 8000
    error_message = "p99 duration above 80 % of the 10 s timeout"
  }
}

run "the_duration_alarm_follows_the_timeout" {
  command = plan
  variables {
    timeout_seconds = 25
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration.threshold == 20000
    error_message = "80 % of the timeout"
  }
}

run "app_env_local_is_refused" {
  command = plan
  variables {
    app_env = "local"
  }
  expect_failures = [var.app_env]
}

run "a_missing_service_token_is_refused" {
  command = plan
  variables {
    secrets = {
      JWT_SECRET   = { ssm_parameter_name = "/chat/test/jwt-secret" }
      PROXY_SECRET = { ssm_parameter_name = "/chat/test/proxy-secret" }
    }
  }
  expect_failures = [var.secrets]
}

run "a_database_url_with_the_dynamodb_store_is_refused" {
  command = plan
  variables {
    secrets = {
      JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret" }
      PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
      SERVICE_TOKEN = { ssm_parameter_name = "/chat/test/service-token" }
      DATABASE_URL  = { ssm_parameter_name = "/chat/test/database-url" }
    }
  }
  expect_failures = [var.secrets]
}

run "postgres_without_a_database_url_is_refused" {
  command = plan
  variables {
    chat_store             = "postgres"
    chat_table_name        = null
    chat_table_arn         = null
    chat_table_index_arns  = []
    vpc_subnet_ids         = ["subnet-0a1b2c3d"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
  }
  expect_failures = [var.secrets]
}

run "a_secret_from_both_sources_is_refused" {
  command = plan
  variables {
    secrets = {
      JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret", secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/jwt-AbCdEf" }
      PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
      SERVICE_TOKEN = { ssm_parameter_name = "/chat/test/service-token" }
    }
  }
  expect_failures = [var.secrets]
}

run "a_partial_secret_arn_is_refused" {
  command = plan
  variables {
    secrets = {
      JWT_SECRET    = { ssm_parameter_name = "/chat/test/jwt-secret" }
      PROXY_SECRET  = { ssm_parameter_name = "/chat/test/proxy-secret" }
      SERVICE_TOKEN = { secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat/test/service-token" }
    }
  }
  expect_failures = [var.secrets]
}

run "subnets_without_security_groups_are_refused" {
  command = plan
  variables {
    vpc_subnet_ids = ["subnet-0a1b2c3d"]
  }
  expect_failures = [var.vpc_security_group_ids]
}

run "a_timeout_beyond_the_http_apis_is_refused" {
  command = plan
  variables {
    timeout_seconds = 30
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

run "a_custom_domain_as_management_endpoint_is_refused" {
  command = plan
  variables {
    management_endpoint = "https://chat.booking.test"
  }
  expect_failures = [var.management_endpoint]
}
