# staging: production's shape at a fraction of its limits.
region                          = "eu-west-1"
backend_url                     = "https://chat-backend.staging.example.com"
proxy_secret_ssm_parameter_name = "/booking-chat/staging/proxy-secret"
throttling_burst_limit          = 200
throttling_rate_limit           = 100
execution_logging_level         = "ERROR"
log_retention_days              = 30
table_deletion_protection       = true
lambda_reserved_concurrency     = 50
