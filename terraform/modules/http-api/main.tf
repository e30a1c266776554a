# The public HTTP API in front of the backend function, for what browsers and the marketplace call: the
# public /api routes (history, the inbox, status changes, the bookings service API, notification settings,
# Web Push subscriptions and the unsubscribe link, attachments, OpenAPI) and /healthz, through one Lambda
# proxy integration (payload format 2.0) on the alias the backend publishes. The backend's proxy routes are
# not routed: only the proxy function reaches them, by invoking the backend directly. CORS for configured
# origins (API Gateway answers preflights itself), stage throttling, JSON access logs, and the permission to
# invoke the backend from this API only.
resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Booking chat: history, bookings service API and health, in front of the backend function"
  tags          = var.tags

  # Without origins there is no CORS configuration: browsers on other origins are refused, servers are not
  # concerned. With origins, API Gateway answers preflights itself and adds these headers to every answer
  # (ignoring the backend's); the ANY route has no authorizer that could refuse a preflight.
  dynamic "cors_configuration" {
    for_each = length(var.cors_allowed_origins) > 0 ? [1] : []
    content {
      allow_origins     = var.cors_allowed_origins
      allow_methods     = ["GET", "POST", "PUT", "PATCH", "DELETE"]
      allow_headers     = ["authorization", "content-type"]
      allow_credentials = var.cors_allow_credentials
      max_age           = var.cors_max_age_seconds
    }
  }
}

resource "aws_apigatewayv2_integration" "backend" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.lambda_invoke_arn
  payload_format_version = "2.0"
}

# Exactly these routes, fixed here rather than a variable: anything else (the backend's proxy routes under
# /api/chat/ws/, /metrics, /readyz) is API Gateway's 404 and never reaches the function. API Gateway answers
# CORS preflights itself, so no OPTIONS route is needed.
locals {
  public_routes = [
    "GET /api/chat/bookings/{booking_id}/messages",
    "GET /api/chat/inbox",
    "PATCH /api/bookings/{booking_id}/status",
    "ANY /api/service/{proxy+}",
    # Notification settings, and the emails' unsubscribe link (GET shows a page, POST is RFC 8058's
    # one-click from mail clients): there whether or not this environment sends emails, so that a link
    # in an email sent before notifications were turned off keeps working.
    "GET /api/chat/notifications",
    "PUT /api/chat/notifications",
    "PUT /api/chat/bookings/{booking_id}/mute",
    # A member's Web Push subscriptions (GET, with the VAPID public key to subscribe with; POST adds the
    # browser's, DELETE removes it), with the member's token like the settings: there whether or not this
    # environment sends pushes, the backend saying which.
    "GET /api/chat/notifications/push",
    "POST /api/chat/notifications/push",
    "DELETE /api/chat/notifications/push",
    "GET /api/notifications/unsubscribe",
    "POST /api/notifications/unsubscribe",
    # Attachments (docs/attachments.md): ask for an upload form, read an attachment, get a download URL;
    # with the member's token, there whether or not this environment keeps files, the backend saying which.
    # The media processor's report (POST /api/service/attachments/processed) is the service API's, under
    # ANY /api/service/{proxy+}. The disk adapter's /api/files/... routes are local only: never here.
    "POST /api/chat/bookings/{booking_id}/attachments",
    "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}",
    "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url",
    "GET /api/openapi.json",
    "GET /healthz",
  ]
}

resource "aws_apigatewayv2_route" "this" {
  for_each = toset(local.public_routes)

  #checkov:skip=CKV_AWS_309:The backend authenticates every /api route itself (a user's JWT, or the marketplace's service token) and /healthz is public by design; an API Gateway authorizer would check the same token twice.
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.backend.id}"
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "access" {
  count = var.access_logging ? 1 : 0

  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# The $default stage, deployed automatically on every route or integration change (HTTP APIs need no
# deployment resource). HTTP API access logs are written with the caller's CloudWatch Logs permissions
# (logs:CreateLogDelivery and friends at apply time), not API Gateway's account-level role.
resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV_AWS_76:Access logging is on unless access_logging = false, switchable like the WebSocket stage's.
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true
  description = "Booking chat HTTP API, deployed on every change"

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = var.detailed_route_metrics
  }

  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.access
    content {
      destination_arn = access_log_settings.value.arn
      # Routes by template, never the raw path or query string.
      format = jsonencode({
        requestId          = "$context.requestId"
        routeKey           = "$context.routeKey"
        status             = "$context.status"
        requestTime        = "$context.requestTimeEpoch"
        sourceIp           = "$context.identity.sourceIp"
        userAgent          = "$context.identity.userAgent"
        responseLength     = "$context.responseLength"
        responseLatency    = "$context.responseLatency"
        integrationStatus  = "$context.integration.status"
        integrationError   = "$context.integration.error"
        integrationLatency = "$context.integration.latency"
        errorMessage       = "$context.error.message"
      })
    }
  }

  tags = var.tags

  # The stage serves as soon as it exists: the function must already accept this API's calls.
  depends_on = [aws_lambda_permission.invoke]
}

# Only this API may invoke the backend (through the alias the integration names): any route of its one
# stage, {execution_arn}/{stage}/{method}/{path}.
resource "aws_lambda_permission" "invoke" {
  statement_id  = "AllowInvokeFrom${replace(var.name, "/[^a-zA-Z0-9]/", "")}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*"
}
