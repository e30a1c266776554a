# A custom domain for one API stage: the regional domain name with its ACM certificate, and the API mapping
# of the stage at the domain's root. DNS is not here: point the domain at target_domain_name (a CNAME, or a
# Route 53 alias record with hosted_zone_id) where the zone is managed.
resource "aws_apigatewayv2_domain_name" "this" {
  domain_name = var.domain_name

  domain_name_configuration {
    certificate_arn = var.certificate_arn
    # WebSocket APIs support regional endpoints only; HTTP APIs likewise.
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

# The stage at the root of the domain: wss://{domain}/ or https://{domain}/, without the stage in the path.
resource "aws_apigatewayv2_api_mapping" "this" {
  api_id      = var.api_id
  domain_name = aws_apigatewayv2_domain_name.this.id
  stage       = var.stage_name
}
