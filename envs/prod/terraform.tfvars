# prod: protected table, longer retention, more memory.
#
# Required before the first apply, and deliberately not committed with a value: the chat backend's URL,
#   backend_url = "https://..."
# (here, or TF_VAR_backend_url). Terraform refuses placeholders such as example.com.
#
# Reserved concurrency stays unset until the account's quota is known: Lambda refuses a reservation that
# leaves fewer than 100 unreserved, and new accounts start far below the default 1,000. With a quota of
# 1,000 or more, reserving guarantees the chat capacity and caps it, e.g.
#   lambda_reserved_concurrency = 200
# (`make apply` checks the quota before applying). The stage throttling below caps the load meanwhile.
region                          = "eu-west-1"
proxy_secret_ssm_parameter_name = "/booking-chat/prod/proxy-secret"
throttling_burst_limit          = 1000
throttling_rate_limit           = 500
execution_logging_level         = "ERROR"
log_retention_days              = 90
table_deletion_protection       = true
lambda_memory_size              = 512
# alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
