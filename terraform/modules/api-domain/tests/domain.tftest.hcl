mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

# The domain name resource's id is the domain itself.
override_resource {
  target          = aws_apigatewayv2_domain_name.this
  override_during = plan
  values = {
    id = "chat.booking.internal"
  }
}

variables {
  domain_name     = "chat.booking.internal"
  certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  api_id          = "a1b2c3d4e5"
  stage_name      = "test"
}

run "a_regional_domain_with_a_modern_tls_policy" {
  command = plan

  assert {
    condition = (aws_apigatewayv2_domain_name.this.domain_name == "chat.booking.internal"
      && aws_apigatewayv2_domain_name.this.domain_name_configuration[0].certificate_arn == var.certificate_arn
      && aws_apigatewayv2_domain_name.this.domain_name_configuration[0].endpoint_type == "REGIONAL"
    && aws_apigatewayv2_domain_name.this.domain_name_configuration[0].security_policy == "TLS_1_2")
    error_message = "a regional domain with the given certificate and TLS 1.2"
  }
}

run "the_stage_is_mapped_at_the_root" {
  command = plan

  assert {
    condition = (aws_apigatewayv2_api_mapping.this.api_id == "a1b2c3d4e5" && aws_apigatewayv2_api_mapping.this.stage == "test"
    && aws_apigatewayv2_api_mapping.this.api_mapping_key == null)
    error_message = "the API's stage at the domain's root, no mapping key"
  }
  assert {
    condition     = aws_apigatewayv2_api_mapping.this.domain_name == "chat.booking.internal"
    error_message = "the mapping is on this domain"
  }
}

run "outputs_give_the_dns_target" {
  command = plan

  # What API Gateway computes for the domain (the configured arguments as given).
  override_resource {
    target          = aws_apigatewayv2_domain_name.this
    override_during = plan
    values = {
      id = "chat.booking.internal"
      domain_name_configuration = {
        certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
        endpoint_type      = "REGIONAL"
        security_policy    = "TLS_1_2"
        target_domain_name = "d-abcdef1234.execute-api.eu-west-1.amazonaws.com"
        hosted_zone_id     = "ZLY8HYME6SFDD"
      }
    }
  }

  assert {
    condition = (output.domain_name == "chat.booking.internal" && output.target_domain_name == "d-abcdef1234.execute-api.eu-west-1.amazonaws.com"
    && output.hosted_zone_id == "ZLY8HYME6SFDD")
    error_message = "what a DNS record for the domain points at"
  }
}

run "a_url_instead_of_a_domain_is_refused" {
  command = plan
  variables {
    domain_name = "https://chat.booking.internal"
  }
  expect_failures = [var.domain_name]
}

run "a_wildcard_domain_is_refused" {
  command = plan
  variables {
    domain_name = "*.booking.internal"
  }
  expect_failures = [var.domain_name]
}

run "a_certificate_name_instead_of_its_arn_is_refused" {
  command = plan
  variables {
    certificate_arn = "chat.booking.internal"
  }
  expect_failures = [var.certificate_arn]
}
