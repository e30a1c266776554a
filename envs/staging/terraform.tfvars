# staging: production's shape at a fraction of its limits.
#
# The backend is deployed as this environment's Lambda function, on DynamoDB. Its secrets and the proxy's
# are SSM SecureString parameters created before the first apply (README, Deploying), never values here.
# A backend that runs elsewhere instead: backend_url = "https://..." and remove the jwt_secret_* and
# service_token_* lines (that backend holds its own secrets).
#
# Reserved concurrency stays unset (the function shares the account's unreserved pool): Lambda refuses a
# reservation that leaves fewer than 100 unreserved, and new accounts start with a quota far below the
# default 1,000. The stage throttling below already caps the load on the backend.
region                           = "eu-west-1"
proxy_secret_ssm_parameter_name  = "/booking-chat/staging/proxy-secret"
jwt_secret_ssm_parameter_name    = "/booking-chat/staging/jwt-secret"
service_token_ssm_parameter_name = "/booking-chat/staging/service-token"
throttling_burst_limit           = 200
throttling_rate_limit            = 100
execution_logging_level          = "ERROR"
log_retention_days               = 30
table_deletion_protection        = true
