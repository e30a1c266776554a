mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name                            = "chat-proxy-test"
  package_path                    = "main.tf" # any file: the hash is all the plan needs
  backend_url                     = "https://chat-backend.internal"
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
    s.Sid == "ConnectionRecords" && s.Action == ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"] && s.Resource == [var.connections_table_arn]])
    error_message = "exactly the DynamoDB actions the code uses (one item per connection: PutItem, DeleteItem, Query; a user connection's item per booking: BatchWriteItem), on this table only"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.policy_json).Statement : s.Action if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]))
    == toset(["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]))
    error_message = "no other DynamoDB action in any statement: no GetItem (the authorizer's context names the connection), no Scan"
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

run "a_secret_name_instead_of_an_arn_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "chat-proxy"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_partial_secret_arn_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-proxy"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "an_arn_of_another_service_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/chat-proxy-AbCdEf"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "a_secret_arn_in_another_partition_is_accepted" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:booking/chat-proxy-AbCdEf"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == [var.proxy_secret_secrets_manager_arn]])
    error_message = "the function may read exactly that secret"
  }
}

run "an_ssm_parameter_arn_instead_of_its_name_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/chat/test/proxy-secret"
  }
  expect_failures = [var.proxy_secret_ssm_parameter_name]
}

run "the_secrets_kms_key_may_decrypt" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]])
    error_message = "kms:Decrypt on exactly the secret's key"
  }
}

run "no_kms_access_without_a_key" {
  command = plan
  assert {
    condition     = !anytrue([for s in jsondecode(output.policy_json).Statement : contains(s.Action, "kms:Decrypt")])
    error_message = "no kms:Decrypt unless the secret has a customer managed key"
  }
}

run "a_kms_alias_is_refused" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/chat"
  }
  expect_failures = [var.secret_kms_key_arn]
}

run "placeholder_backend_urls_are_refused" {
  command = plan
  variables {
    backend_url = "https://chat-backend.dev.example.com"
  }
  expect_failures = [var.backend_url]
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
    condition     = output.invoke_arn == aws_lambda_alias.this.invoke_arn
    error_message = "API Gateway invokes the alias, not $LATEST"
  }
}

run "alarms_watch_errors_throttles_fanout_failures_and_duration" {
  command = plan
  assert {
    condition = (aws_cloudwatch_metric_alarm.throttles.namespace == "AWS/Lambda" && aws_cloudwatch_metric_alarm.throttles.metric_name == "Throttles"
    && aws_cloudwatch_metric_alarm.throttles.dimensions == tomap({ FunctionName = "chat-proxy-test" }))
    error_message = "the function's Throttles"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.errors.metric_query :
      q.id == "errors" && one(q.metric[*].namespace) == "AWS/Lambda" && one(q.metric[*].metric_name) == "Errors"
    && one(q.metric[*].dimensions) == tomap({ FunctionName = "chat-proxy-test" })])
    error_message = "the errors alarm reads the function's Errors"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors.alarm_name == "chat-proxy-test-errors" && aws_cloudwatch_metric_alarm.throttles.alarm_name == "chat-proxy-test-throttles"
    error_message = "the alarms keep their names"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.fanout_failed.namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.fanout_failed.metric_name == "FanoutFailed"
    && aws_cloudwatch_metric_alarm.fanout_failed.dimensions == tomap({ Stage = "test" }))
    error_message = "the proxy's own FanoutFailed metric, in its namespace, by stage"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.duration.metric_name == "Duration"
      && aws_cloudwatch_metric_alarm.duration.extended_statistic == "p99"
    && aws_cloudwatch_metric_alarm.duration.threshold == 25000)
    error_message = "p99 duration above 25 s, close to API Gateway's 29 s"
  }
}

run "refused_tokens_are_not_errors" {
  command = plan

  # The $connect authorizer fails with `Unauthorized` (API Gateway's 401) for every missing or bad token,
  # and Lambda counts each in Errors: the alarm subtracts them, counted by the proxy's own embedded-metric-
  # format metric HandshakesUnauthorized (lambda/src/handler.rs), like FanoutFailed.
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.errors.metric_query :
      q.id == "unauthorized" && one(q.metric[*].namespace) == "BookingChat"
      && one(q.metric[*].metric_name) == "HandshakesUnauthorized" && one(q.metric[*].stat) == "Sum"
    && one(q.metric[*].dimensions) == tomap({ Stage = "test" })])
    error_message = "the errors alarm reads HandshakesUnauthorized in the proxy's namespace, for this stage"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.errors.metric_query :
    q.return_data == true && q.expression == "FILL(errors, 0) - FILL(unauthorized, 0)"])
    error_message = "errors minus refused tokens, each side FILLed with 0: errors alone alarm, refusals alone do not"
  }
  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.errors.metric_query : q if q.return_data == true]) == 1
    error_message = "the alarm evaluates the expression alone"
  }
  assert {
    condition = alltrue([for q in aws_cloudwatch_metric_alarm.errors.metric_query :
    length(q.metric) == 0 || one(q.metric[*].period) == 300])
    error_message = "both metrics are summed over the same 300 s period, so the subtraction lines up"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.errors.threshold == 0 && aws_cloudwatch_metric_alarm.errors.comparison_operator == "GreaterThanThreshold"
    && aws_cloudwatch_metric_alarm.errors.treat_missing_data == "notBreaching")
    error_message = "any error that is not a refused token alarms"
  }
}

run "the_fanout_alarm_follows_the_metrics_namespace" {
  command = plan
  variables {
    metrics_namespace = "BookingChatStaging"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.fanout_failed.namespace == "BookingChatStaging" && aws_lambda_function.this.environment[0].variables["METRICS_NAMESPACE"] == "BookingChatStaging"
    error_message = "the alarm reads the namespace the function writes"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.errors.metric_query :
    q.id == "unauthorized" && one(q.metric[*].namespace) == "BookingChatStaging"])
    error_message = "the errors alarm reads refused tokens from the namespace the function writes"
  }
}

# The backend as a Lambda function: the proxy invokes its alias directly with IAM instead of calling a URL.

run "the_backend_function_is_invoked_through_its_alias_only" {
  command = plan
  variables {
    backend_url          = null
    backend_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:live"
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["BACKEND_FUNCTION"] == "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:live"
    && !contains(keys(aws_lambda_function.this.environment[0].variables), "BACKEND_URL"))
    error_message = "BACKEND_FUNCTION names the alias, and there is no BACKEND_URL: exactly one way to the backend"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.policy_json).Statement :
    s.Sid == "InvokeBackend" && s.Action == ["lambda:InvokeFunction"] && s.Resource == ["arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:live"]])
    error_message = "lambda:InvokeFunction on exactly the alias ARN: not $LATEST, a version, another alias or another function"
  }
  assert {
    condition     = length([for s in jsondecode(output.policy_json).Statement : s if anytrue([for a in s.Action : startswith(a, "lambda:")])]) == 1
    error_message = "no other Lambda permission"
  }
}

run "a_backend_url_needs_no_lambda_permission" {
  command = plan
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["BACKEND_URL"] == "https://chat-backend.internal"
    && !contains(keys(aws_lambda_function.this.environment[0].variables), "BACKEND_FUNCTION"))
    error_message = "BACKEND_URL alone when the backend runs elsewhere"
  }
  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.policy_json).Statement : [for a in s.Action : startswith(a, "lambda:")]]))
    error_message = "no lambda:InvokeFunction without a backend function"
  }
}

run "both_ways_to_the_backend_are_refused" {
  command = plan
  variables {
    backend_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:live"
  }
  expect_failures = [var.backend_function_arn]
}

run "no_way_to_the_backend_is_refused" {
  command = plan
  variables {
    backend_url = null
  }
  expect_failures = [var.backend_function_arn]
}

run "the_unqualified_backend_function_arn_is_refused" {
  command = plan
  variables {
    backend_url          = null
    backend_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test"
  }
  expect_failures = [var.backend_function_arn]
}

run "a_version_instead_of_the_alias_is_refused" {
  command = plan
  variables {
    backend_url          = null
    backend_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:7"
  }
  expect_failures = [var.backend_function_arn]
}
