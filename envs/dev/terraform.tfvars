# dev: small, cheap, easy to tear down.
region                          = "eu-west-1"
backend_url                     = "https://chat-backend.dev.example.com"
proxy_secret_ssm_parameter_name = "/booking-chat/dev/proxy-secret"
throttling_burst_limit          = 50
throttling_rate_limit           = 25
execution_logging_level         = "INFO"
log_retention_days              = 7
table_deletion_protection       = false
