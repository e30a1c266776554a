output "domain_name" {
  description = "The custom domain."
  value       = aws_apigatewayv2_domain_name.this.domain_name
}

output "target_domain_name" {
  description = "API Gateway's regional name for the domain: the target of its DNS record (CNAME, or Route 53 alias)."
  value       = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].target_domain_name
}

output "hosted_zone_id" {
  description = "Route 53 hosted zone id of target_domain_name, for an alias record."
  value       = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].hosted_zone_id
}

output "api_mapping_id" {
  description = "Id of the API mapping (depends on the stage existing)."
  value       = aws_apigatewayv2_api_mapping.this.id
}

output "mapped_api_id" {
  description = "The API the domain serves, as mapped."
  value       = aws_apigatewayv2_api_mapping.this.api_id
}

output "mapped_stage" {
  description = "The stage the domain serves at its root, as mapped."
  value       = aws_apigatewayv2_api_mapping.this.stage
}
