mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

variables {
  name                   = "chat-test"
  stage_name             = "test"
  lambda_function_name   = "chat-proxy-test"
  lambda_invoke_arn      = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:chat-proxy-test:live/invocations"
  lambda_qualifier       = "live"
  throttling_burst_limit = 200
  throttling_rate_limit  = 100
}

run "routes_select_on_the_body_action_into_one_proxy_integration" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "WEBSOCKET" && aws_apigatewayv2_api.this.route_selection_expression == "$request.body.action"
    error_message = "a WebSocket API selecting routes by $request.body.action"
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.this)) == toset(["$connect", "$disconnect", "$default"])
    error_message = "exactly $connect, $disconnect and $default"
  }
  assert {
    condition     = aws_apigatewayv2_integration.proxy.integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.proxy.integration_uri == var.lambda_invoke_arn
    error_message = "one AWS_PROXY integration to the function"
  }
}

run "connect_is_authorized_by_the_function_itself_with_no_identity_sources" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_authorizer.this.authorizer_type == "REQUEST" && aws_apigatewayv2_authorizer.this.api_id == aws_apigatewayv2_api.this.id
    error_message = "a Lambda REQUEST authorizer on this API"
  }
  assert {
    condition     = try(length(aws_apigatewayv2_authorizer.this.identity_sources), 0) == 0
    error_message = "no identity sources: API Gateway would answer 401, before the authorizer runs, to a client that leaves one out, and the token may come from any of four places"
  }
  assert {
    condition = (aws_apigatewayv2_authorizer.this.authorizer_uri == var.lambda_invoke_arn
      && aws_apigatewayv2_authorizer.this.authorizer_uri == aws_apigatewayv2_integration.proxy.integration_uri
    && endswith(aws_apigatewayv2_authorizer.this.authorizer_uri, ":live/invocations"))
    error_message = "the authorizer invokes the alias the integration invokes, so both run the same version"
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.this.authorizer_payload_format_version == null && aws_apigatewayv2_authorizer.this.enable_simple_responses == null
    error_message = "no HTTP API-only settings on a WebSocket authorizer"
  }
}

run "only_connect_is_authorized" {
  command = plan

  assert {
    condition = (aws_apigatewayv2_route.this["$connect"].authorization_type == "CUSTOM"
    && aws_apigatewayv2_route.this["$connect"].authorizer_id == aws_apigatewayv2_authorizer.this.id)
    error_message = "$connect runs the authorizer"
  }
  assert {
    condition = alltrue([for key in ["$default", "$disconnect"] :
    aws_apigatewayv2_route.this[key].authorization_type == "NONE" && aws_apigatewayv2_route.this[key].authorizer_id == null])
    error_message = "$default and $disconnect have no authorizer (API Gateway allows one on $connect only)"
  }
}

run "the_stage_is_throttled_and_logs_json_access_lines" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 200 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 100
    error_message = "stage throttling comes from the variables"
  }
  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].data_trace_enabled == false
    error_message = "full request logging would write chat text and tokens to CloudWatch"
  }
  assert {
    condition = alltrue([for field in ["requestId", "connectionId", "eventType", "routeKey", "status", "integrationError"] :
    contains(keys(jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format)), field)])
    error_message = "access logs are JSON with requestId, connectionId, eventType, routeKey, status and the integration error"
  }
  assert {
    condition     = aws_cloudwatch_log_group.access[0].retention_in_days == 30
    error_message = "the access log group has a retention"
  }
  assert {
    condition     = aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access[0].arn
    error_message = "access logs go to their own group"
  }
}

run "per_route_metrics_are_off_unless_asked" {
  command = plan

  # Billed as custom metrics; the environment's alarms read the stage-wide ones, and the access logs have
  # each route.
  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].detailed_metrics_enabled == false
    error_message = "no per-route metrics by default"
  }
}

run "per_route_metrics_when_asked" {
  command = plan
  variables {
    detailed_route_metrics = true
  }
  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].detailed_metrics_enabled == true
    error_message = "detailed_route_metrics turns the stage's per-route metrics on"
  }
}

run "access_logging_can_be_switched_off" {
  command = plan
  variables {
    access_logging          = false
    execution_logging_level = "OFF"
  }

  assert {
    condition     = length(aws_apigatewayv2_stage.this.access_log_settings) == 0 && length(aws_cloudwatch_log_group.access) == 0
    error_message = "no access log settings and no access log group when access logging is off"
  }
  assert {
    condition     = output.access_log_group_name == null
    error_message = "no access log group name to output"
  }
}

run "the_execution_log_group_exists_with_retention" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_group.execution.name == "API-Gateway-Execution-Logs_a1b2c3d4e5/test"
    error_message = "the execution log group has API Gateway's own name, so API Gateway writes to it instead of creating one"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution.retention_in_days == 30
    error_message = "the execution log group has a retention"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution.kms_key_id == null
    error_message = "CloudWatch's default encryption unless a key is given"
  }
}

run "log_groups_use_the_kms_key_when_given" {
  command = plan
  variables {
    log_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    log_retention_days = 90
  }

  assert {
    condition = (aws_cloudwatch_log_group.execution.kms_key_id == var.log_kms_key_arn
    && aws_cloudwatch_log_group.access[0].kms_key_id == var.log_kms_key_arn)
    error_message = "execution and access log groups are encrypted with the same key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution.retention_in_days == 90 && aws_cloudwatch_log_group.access[0].retention_in_days == 90
    error_message = "both log groups follow log_retention_days"
  }
}

run "only_this_stage_may_invoke_the_function" {
  command = plan

  assert {
    condition     = aws_lambda_permission.invoke.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/*"
    error_message = "the permission is scoped to this API's stage"
  }
  assert {
    condition     = aws_lambda_permission.invoke.qualifier == "live"
    error_message = "the permission is on the alias the integration invokes"
  }
  assert {
    condition     = aws_lambda_permission.invoke.principal == "apigateway.amazonaws.com"
    error_message = "only API Gateway may invoke"
  }
}

run "only_this_apis_authorizer_may_invoke_the_function_as_an_authorizer" {
  command = plan

  assert {
    condition     = aws_lambda_permission.authorizer.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/authorizers/x1y2z3"
    error_message = "the permission is scoped to this API's authorizer: {execution_arn}/authorizers/{authorizer_id}"
  }
  assert {
    condition     = aws_lambda_permission.authorizer.source_arn == "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}"
    error_message = "the source ARN names the authorizer this module creates"
  }
  assert {
    condition = (aws_lambda_permission.authorizer.qualifier == "live"
      && aws_lambda_permission.authorizer.function_name == "chat-proxy-test"
      && aws_lambda_permission.authorizer.principal == "apigateway.amazonaws.com"
    && aws_lambda_permission.authorizer.action == "lambda:InvokeFunction")
    error_message = "API Gateway may invoke only the alias the authorizer names"
  }
  assert {
    condition     = aws_lambda_permission.authorizer.statement_id != aws_lambda_permission.invoke.statement_id
    error_message = "the two permissions are separate statements of the function's policy"
  }
}

run "outputs_give_the_client_url_and_the_management_endpoint" {
  command = plan

  assert {
    condition     = output.websocket_url == "wss://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "clients connect to the stage URL"
  }
  assert {
    condition     = output.management_endpoint == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "the Management API endpoint is built from the API id, region and stage"
  }
}

run "a_malformed_stage_name_is_refused" {
  command = plan
  variables {
    stage_name = "dev stage"
  }
  expect_failures = [var.stage_name]
}
