# dev: small, cheap, easy to tear down.
#
# The backend is deployed as this environment's Lambda function, on DynamoDB. Its secrets and the proxy's
# are SSM SecureString parameters created before the first apply (README, Deploying), never values here.
# A backend that runs elsewhere instead: backend_url = "https://..." and remove the jwt_secret_* and
# service_token_* lines (that backend holds its own secrets).
region                           = "eu-west-1"
proxy_secret_ssm_parameter_name  = "/booking-chat/dev/proxy-secret"
jwt_secret_ssm_parameter_name    = "/booking-chat/dev/jwt-secret"
service_token_ssm_parameter_name = "/booking-chat/dev/service-token"
throttling_burst_limit           = 50
throttling_rate_limit            = 25
execution_logging_level          = "INFO"
log_retention_days               = 7
table_deletion_protection        = false
