output "cloudwatch_role_arn" {
  description = "The role API Gateway now uses to write logs in this region (what `make apply`'s preflight checks for)."
  value       = module.apigateway_account.cloudwatch_role_arn
}
