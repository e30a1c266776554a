# prod: protected table, longer retention, more memory.
#
# The backend is deployed as this environment's Lambda function, on DynamoDB. Its secrets and the proxy's
# are SSM SecureString parameters created before the first apply (README, Deploying), never values here.
# A backend that runs elsewhere instead: backend_url = "https://..." and remove the jwt_secret_* and
# service_token_* lines (that backend holds its own secrets).
#
# Reserved concurrency stays unset until the account's quota is known: Lambda refuses a reservation that
# leaves fewer than 100 unreserved, and new accounts start far below the default 1,000. With a quota of
# 1,000 or more, reserving guarantees the chat capacity and caps it, e.g.
#   lambda_reserved_concurrency = 200
# (`make apply` checks the quota before applying). The stage throttling below caps the load meanwhile.
region                           = "eu-west-1"
proxy_secret_ssm_parameter_name  = "/booking-chat/prod/proxy-secret"
jwt_secret_ssm_parameter_name    = "/booking-chat/prod/jwt-secret"
service_token_ssm_parameter_name = "/booking-chat/prod/service-token"
throttling_burst_limit           = 1000
throttling_rate_limit            = 500
execution_logging_level          = "ERROR"
log_retention_days               = 90
table_deletion_protection        = true
lambda_memory_size               = 512
backend_memory_size              = 512
# alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
