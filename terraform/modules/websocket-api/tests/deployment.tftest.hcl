# The deployment's trigger, applied with a mocked provider (no override during plan): after apply every
# computed argument of the routes, the integration and the authorizer is known, as it is on every plan
# after the first.
mock_provider "aws" {
  source = "../../testing/aws"
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

run "the_trigger_hashes_whole_routes_integration_and_authorizer" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_deployment.this.triggers["redeployment"] == sha1(jsonencode([aws_apigatewayv2_route.this, aws_apigatewayv2_integration.proxy, aws_apigatewayv2_authorizer.this]))
    error_message = "the trigger hashes the whole routes, integration and authorizer, so a change to any of their arguments redeploys"
  }
  assert {
    condition     = aws_apigatewayv2_deployment.this.triggers["redeployment"] != sha1(jsonencode([aws_apigatewayv2_route.this, aws_apigatewayv2_integration.proxy]))
    error_message = "a change to the authorizer alone (its URI, its type) redeploys too"
  }
  assert {
    condition     = aws_apigatewayv2_deployment.this.triggers["redeployment"] != sha1(jsonencode([[for r in aws_apigatewayv2_route.this : [r.id, r.route_key, r.target]], aws_apigatewayv2_integration.proxy.integration_uri]))
    error_message = "not a hash of a few chosen fields"
  }
}
