# staging: production's shape at a fraction of its limits.
#
# Required before the first apply, and deliberately not committed with a value: the chat backend's URL,
#   backend_url = "https://..."
# (here, or TF_VAR_backend_url). Terraform refuses placeholders such as example.com.
#
# Reserved concurrency stays unset (the function shares the account's unreserved pool): Lambda refuses a
# reservation that leaves fewer than 100 unreserved, and new accounts start with a quota far below the
# default 1,000. The stage throttling below already caps the load on the backend.
region                          = "eu-west-1"
proxy_secret_ssm_parameter_name = "/booking-chat/staging/proxy-secret"
throttling_burst_limit          = 200
throttling_rate_limit           = 100
execution_logging_level         = "ERROR"
log_retention_days              = 30
table_deletion_protection       = true
