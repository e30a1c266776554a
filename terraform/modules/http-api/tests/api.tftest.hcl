mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

override_resource {
  target          = aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target          = aws_apigatewayv2_integration.backend
  override_during = plan
  values = {
    id = "i1n2t3"
  }
}

variables {
  name                   = "chat-http-test"
  lambda_function_name   = "chat-backend-test"
  lambda_invoke_arn      = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:chat-backend-test:live/invocations"
  lambda_qualifier       = "live"
  cors_allowed_origins   = ["https://app.booking.internal", "https://admin.booking.internal:8443"]
  throttling_burst_limit = 50
  throttling_rate_limit  = 25
}

run "an_http_api_with_one_lambda_proxy_integration_payload_2" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "HTTP"
    error_message = "an HTTP API (API Gateway v2)"
  }
  assert {
    condition = (aws_apigatewayv2_integration.backend.integration_type == "AWS_PROXY"
      && aws_apigatewayv2_integration.backend.integration_uri == var.lambda_invoke_arn
    && aws_apigatewayv2_integration.backend.payload_format_version == "2.0")
    error_message = "one AWS_PROXY integration to the backend's alias, payload format 2.0 (what lambda_http reads)"
  }
}

run "only_the_api_routes_and_healthz_are_routed" {
  command = plan

  assert {
    condition = toset(keys(aws_apigatewayv2_route.this)) == toset([
      "GET /api/chat/bookings/{booking_id}/messages",
      "GET /api/chat/inbox",
      "PATCH /api/bookings/{booking_id}/status",
      "ANY /api/service/{proxy+}",
      "GET /api/chat/notifications",
      "PUT /api/chat/notifications",
      "PUT /api/chat/bookings/{booking_id}/mute",
      "GET /api/chat/notifications/push",
      "POST /api/chat/notifications/push",
      "DELETE /api/chat/notifications/push",
      "GET /api/notifications/unsubscribe",
      "POST /api/notifications/unsubscribe",
      "POST /api/chat/bookings/{booking_id}/attachments",
      "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}",
      "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url",
      "GET /api/openapi.json",
      "GET /healthz",
    ])
    error_message = "exactly the public routes: history, the inbox, status, the service API, notification settings, Web Push subscriptions and the unsubscribe link, attachments, OpenAPI and /healthz"
  }
  assert {
    # The media processor's report is a service call: the service API's greedy route carries it, and the
    # disk adapter's form target and downloads (/api/files/...) are local only.
    condition = (contains(keys(aws_apigatewayv2_route.this), "ANY /api/service/{proxy+}")
    && !anytrue([for key in keys(aws_apigatewayv2_route.this) : strcontains(key, "/api/files")]))
    error_message = "POST /api/service/attachments/processed reaches the backend through ANY /api/service/{proxy+}; no /api/files route"
  }

  assert {
    condition     = alltrue([for key in keys(aws_apigatewayv2_route.this) : !strcontains(key, "/api/chat/ws") && !strcontains(key, "{proxy+}") || key == "ANY /api/service/{proxy+}"])
    error_message = "the proxy routes (/api/chat/ws/...) are never on the public API"
  }
  assert {
    condition     = !anytrue([for key in keys(aws_apigatewayv2_route.this) : strcontains(key, "/proxy/") || strcontains(key, "$default")])
    error_message = "no route reaches the backend's proxy routes: no /proxy route and no $default catch-all"
  }
  assert {
    condition     = alltrue([for route in values(aws_apigatewayv2_route.this) : route.target == "integrations/i1n2t3"])
    error_message = "both routes go to the backend integration"
  }
}

run "cors_allows_the_configured_origins_only" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_origins == toset(["https://app.booking.internal", "https://admin.booking.internal:8443"])
    error_message = "the configured origins, and no other"
  }
  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_credentials == false
    error_message = "no credentials unless asked: bearer tokens do not need them"
  }
  assert {
    condition     = aws_apigatewayv2_api.this.cors_configuration[0].allow_headers == toset(["authorization", "content-type"])
    error_message = "the headers browsers send to the API"
  }
}

run "no_origins_no_cors" {
  command = plan
  variables {
    cors_allowed_origins = []
  }
  assert {
    condition     = length(aws_apigatewayv2_api.this.cors_configuration) == 0
    error_message = "no CORS configuration without origins"
  }
}

run "an_origin_with_a_path_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = ["https://app.booking.internal/"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "a_plain_http_origin_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = ["http://app.booking.internal"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "an_empty_origin_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = [""]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "a_wildcard_with_credentials_is_refused" {
  command = plan
  variables {
    cors_allowed_origins   = ["*"]
    cors_allow_credentials = true
  }
  expect_failures = [var.cors_allow_credentials]
}

run "a_wildcard_beside_origins_is_refused" {
  command = plan
  variables {
    cors_allowed_origins = ["*", "https://app.booking.internal"]
  }
  expect_failures = [var.cors_allowed_origins]
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

run "the_default_stage_deploys_itself_throttled_with_json_access_logs" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_stage.this.name == "$default" && aws_apigatewayv2_stage.this.auto_deploy
    error_message = "the $default stage with auto-deploy"
  }
  assert {
    condition = (aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 50
    && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 25)
    error_message = "stage throttling comes from the variables"
  }
  assert {
    condition = (aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access[0].arn
    && aws_cloudwatch_log_group.access[0].retention_in_days == 30)
    error_message = "access logs go to their own group, with retention"
  }
  assert {
    condition = alltrue([for field in ["requestId", "routeKey", "status", "integrationError"] :
    contains(keys(jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format)), field)])
    error_message = "access logs are JSON with requestId, routeKey, status and the integration error"
  }
  assert {
    condition     = !strcontains(aws_apigatewayv2_stage.this.access_log_settings[0].format, "$context.path")
    error_message = "routes by template, never the raw path"
  }
}

run "access_logging_can_be_switched_off" {
  command = plan
  variables {
    access_logging = false
  }
  assert {
    condition     = length(aws_apigatewayv2_stage.this.access_log_settings) == 0 && length(aws_cloudwatch_log_group.access) == 0 && output.access_log_group_name == null
    error_message = "no access log settings and no access log group when access logging is off"
  }
}

run "only_this_api_may_invoke_the_backend_alias" {
  command = plan

  assert {
    condition = (aws_lambda_permission.invoke.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/*"
      && aws_lambda_permission.invoke.qualifier == "live" && aws_lambda_permission.invoke.function_name == "chat-backend-test"
    && aws_lambda_permission.invoke.principal == "apigateway.amazonaws.com" && aws_lambda_permission.invoke.action == "lambda:InvokeFunction")
    error_message = "API Gateway may invoke the alias from this API only"
  }
}

run "outputs_give_the_base_url" {
  command = plan

  assert {
    condition     = output.url == "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com" && output.stage_name == "$default"
    error_message = "the base URL has no stage path"
  }
}
