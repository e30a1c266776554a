# dev: small, cheap, easy to tear down.
#
# Required before the first apply, and deliberately not committed with a value: the chat backend's URL,
#   backend_url = "https://..."
# (here, or TF_VAR_backend_url). Terraform refuses placeholders such as example.com.
region                          = "eu-west-1"
proxy_secret_ssm_parameter_name = "/booking-chat/dev/proxy-secret"
throttling_burst_limit          = 50
throttling_rate_limit           = 25
execution_logging_level         = "INFO"
log_retention_days              = 7
table_deletion_protection       = false
