# prod: protected table, longer retention, reserved concurrency that also caps the load on the backend.
region                          = "eu-west-1"
backend_url                     = "https://chat-backend.example.com"
proxy_secret_ssm_parameter_name = "/booking-chat/prod/proxy-secret"
throttling_burst_limit          = 1000
throttling_rate_limit           = 500
execution_logging_level         = "ERROR"
log_retention_days              = 90
table_deletion_protection       = true
lambda_reserved_concurrency     = 200
lambda_memory_size              = 512
# alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
