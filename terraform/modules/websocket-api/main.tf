# The WebSocket API in front of the proxy function: routes, one Lambda proxy integration, the `$connect`
# authorizer (the same function), a deployment that follows them, the stage with throttling and logs, the
# permissions to invoke the function from this stage and as the authorizer. API Gateway's account-level
# CloudWatch role is not here: it is one per account and region (module apigateway-account, root
# envs/account/<region>).
data "aws_region" "current" {}

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  tags                       = var.tags
}

# One Lambda proxy integration behind every route.
resource "aws_apigatewayv2_integration" "proxy" {
  api_id                    = aws_apigatewayv2_api.this.id
  integration_type          = "AWS_PROXY"
  integration_method        = "POST"
  integration_uri           = var.lambda_invoke_arn
  content_handling_strategy = "CONVERT_TO_TEXT"
  timeout_milliseconds      = 29000
}

# The `$connect` authorizer is the proxy function itself, through the same alias as the integration, so both
# always run the same version (lambda/src/authorizer.rs). It verifies the token and the membership once per
# connection and returns a context map that API Gateway passes in `requestContext.authorizer` of every later
# event of the connection. A missing or bad token fails it with `Unauthorized` (401); every other verdict
# travels in the context to the integration, which answers the handshake with its own status.
#
# No identity sources: API Gateway answers 401, without running the authorizer, to a client that leaves any
# identity source out, and the token may come from any of four places (`?token=`, Sec-WebSocket-Protocol,
# Authorization, X-Api-Key). WebSocket authorizers are not cached (API Gateway refuses
# AuthorizerResultTtlInSeconds for WEBSOCKET APIs), so neither a cache key nor a TTL is set.
resource "aws_apigatewayv2_authorizer" "this" {
  api_id          = aws_apigatewayv2_api.this.id
  name            = "${var.name}-connect"
  authorizer_type = "REQUEST"
  authorizer_uri  = var.lambda_invoke_arn
}

resource "aws_apigatewayv2_route" "this" {
  for_each = toset(["$connect", "$disconnect", "$default"])

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.proxy.id}"
  # Only $connect can carry an authorizer; $disconnect and $default belong to a connection it accepted.
  #checkov:skip=CKV_AWS_309:$connect is CUSTOM (the Lambda authorizer); $disconnect and $default cannot have one (API Gateway allows authorizers on $connect only) and belong to a connection it accepted.
  authorization_type = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" ? aws_apigatewayv2_authorizer.this.id : null
}

locals {
  # Everything a deployment snapshots, whole: any change to any argument of these redeploys. A route,
  # integration, authorizer or route response added to this API belongs in this list.
  deployment_inputs = [aws_apigatewayv2_route.this, aws_apigatewayv2_integration.proxy, aws_apigatewayv2_authorizer.this]
}

# A new deployment whenever a route, the integration or the authorizer changes; created before the old one
# goes.
resource "aws_apigatewayv2_deployment" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  description = "Routes, integration and authorizer as of this deployment"

  triggers = {
    redeployment = sha1(jsonencode(local.deployment_inputs))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  count = var.access_logging ? 1 : 0

  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# API Gateway writes execution logs to this group, creating it itself (without retention, and outliving
# the API) when it does not exist. Created here, always, so that it has a retention and goes with the API
# even when execution logging is switched on by hand during an incident.
resource "aws_cloudwatch_log_group" "execution" {
  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Clients are browsers authenticated by JWT at $connect; client certificates (mTLS) need a custom domain and do not fit browsers.
  #checkov:skip=CKV_AWS_76:Access logging is on unless access_logging = false, a deliberate choice for accounts without API Gateway's CloudWatch role.
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  deployment_id = aws_apigatewayv2_deployment.this.id
  description   = "Booking chat WebSocket stage ${var.stage_name}"

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    logging_level            = var.execution_logging_level
    data_trace_enabled       = false # full message logging would write chat text and tokens to CloudWatch
    detailed_metrics_enabled = var.detailed_route_metrics
  }

  # Access logging, like execution logging, needs API Gateway's CloudWatch role in the account's settings
  # for this region ("CloudWatch Logs role ARN must be set in account settings to enable logging").
  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.access
    content {
      destination_arn = access_log_settings.value.arn
      format = jsonencode({
        requestId          = "$context.requestId"
        extendedRequestId  = "$context.extendedRequestId"
        connectionId       = "$context.connectionId"
        eventType          = "$context.eventType"
        routeKey           = "$context.routeKey"
        status             = "$context.status"
        requestTime        = "$context.requestTimeEpoch"
        sourceIp           = "$context.identity.sourceIp"
        integrationStatus  = "$context.integration.status"
        integrationError   = "$context.integration.error"
        integrationLatency = "$context.integration.latency"
        errorMessage       = "$context.error.message"
      })
    }
  }

  tags = var.tags

  # The stage serves clients as soon as it exists: the function must already accept this stage's calls and
  # the authorizer's, and the execution log group must exist before API Gateway creates one of its own.
  depends_on = [aws_lambda_permission.invoke, aws_lambda_permission.authorizer, aws_cloudwatch_log_group.execution]
}

# Only this API's stage may invoke the function (through the alias the integration names).
resource "aws_lambda_permission" "invoke" {
  statement_id  = "AllowInvokeFrom${replace(var.name, "/[^a-zA-Z0-9]/", "")}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/*"
}

# Only this API's authorizer may invoke the function as an authorizer (through the same alias). Authorizer
# calls are not made on a stage's behalf: their source ARN is {execution_arn}/authorizers/{authorizer_id}.
resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowAuthorizerFrom${replace(var.name, "/[^a-zA-Z0-9]/", "")}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}"
}
