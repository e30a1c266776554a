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

resource "aws_apigatewayv2_route" "this" {
  for_each = toset(["$connect", "$disconnect", "$default"])

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.proxy.id}"
  # Authentication happens in the function at $connect (the token may only come by query string or
  # subprotocol, which authorizers do not read), and only $connect can carry an authorizer at all.
  #checkov:skip=CKV_AWS_309:The token is checked by the function at $connect; other routes cannot have authorizers.
  authorization_type = "NONE"
}

# A new deployment whenever a route or the integration changes; created before the old one goes.
resource "aws_apigatewayv2_deployment" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  description = "Routes and integration as of this deployment"

  triggers = {
    redeployment = sha1(jsonencode([
      [for route in aws_apigatewayv2_route.this : [route.id, route.route_key, route.target, route.authorization_type]],
      [aws_apigatewayv2_integration.proxy.id, aws_apigatewayv2_integration.proxy.integration_uri, aws_apigatewayv2_integration.proxy.timeout_milliseconds],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Clients are browsers authenticated by JWT at $connect; client certificates (mTLS) need a custom domain and do not fit browsers.
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  deployment_id = aws_apigatewayv2_deployment.this.id
  description   = "Booking chat WebSocket stage ${var.stage_name}"

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    logging_level            = var.execution_logging_level
    data_trace_enabled       = false # full message logging would write chat text and tokens to CloudWatch
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
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

  tags = var.tags

  depends_on = [aws_api_gateway_account.this]
}

# API Gateway may invoke the function for this API only.
resource "aws_lambda_permission" "invoke" {
  statement_id  = "AllowInvokeFrom${replace(var.name, "/[^a-zA-Z0-9]/", "")}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

# Execution logging needs an account-wide role; create it only where asked (once per account and region).
data "aws_iam_policy_document" "apigateway_assume" {
  count = var.manage_account_logging_role ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "account_logging" {
  count = var.manage_account_logging_role ? 1 : 0

  name               = "${var.name}-apigateway-cloudwatch"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "account_logging" {
  count = var.manage_account_logging_role ? 1 : 0

  role       = aws_iam_role.account_logging[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_logging_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.account_logging[0].arn
}

resource "aws_cloudwatch_metric_alarm" "integration_errors" {
  alarm_name          = "${var.name}-${var.stage_name}-integration-errors"
  alarm_description   = "API Gateway could not get an answer from the proxy function: handshakes or messages failed."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationError"
  dimensions          = { ApiId = aws_apigatewayv2_api.this.id, Stage = aws_apigatewayv2_stage.this.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}
