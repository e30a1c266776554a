# prod: protected table, longer retention, more memory.
#
# The backend is deployed as this environment's Lambda function, on DynamoDB. Its secrets and the proxy's
# are SSM SecureString parameters created before the first apply (docs/deploying.md), never values here.
#
# Required before the first apply, and deliberately not committed (here, or TF_VAR_<name>; envs/README.md):
#   cors_allowed_origins = ["https://app.yourcompany.com"]   # the web origins that call the HTTP API, or []
#   alarm_topic_arn      = "arn:aws:sns:eu-west-1:<account>:<topic>"  # who is told when an alarm fires
#
# A backend that runs elsewhere instead: backend_url = "https://...", without cors_allowed_origins and the
# jwt_secret_* and service_token_* lines (that backend holds its own secrets and has no HTTP API here).
#
# Reserved concurrency stays unset until the account's quota is known: Lambda refuses a reservation that
# leaves fewer than 100 unreserved, and new accounts start far below the default 1,000. With a quota of
# 1,000 or more, reserving guarantees the chat capacity and caps it, e.g.
#   lambda_reserved_concurrency = 200
# (`make apply` checks the quota before applying). The stage throttling below caps the load meanwhile.
#
# Email notifications of unread messages are off. To turn them on (docs/deploying.md, Email notifications):
# verify an SES identity for sending in the region, create the link secret's SecureString, then
#   notifications = {
#     email_from   = "Booking chat <chat@yourcompany.com>"
#     booking_url  = "https://app.yourcompany.com/bookings/{booking_id}/chat"
#     ses_identity = "yourcompany.com"   # the verified domain (or the address itself)
#   }
#   notify_link_secret_ssm_parameter_name = "/booking-chat/prod/notify-link-secret"
# and to push them to members' browsers too (Web Push): make a VAPID key pair (npx web-push
# generate-vapid-keys), put its private key in a SecureString of its own (make plan says how), then
#   web_push = {
#     public_key = "B..."                        # the public key it printed: 87 characters
#     subject    = "mailto:ops@yourcompany.com"  # whom the push services contact (or an https:// page)
#   }
#   vapid_private_key_ssm_parameter_name = "/booking-chat/prod/vapid-private-key"
#
# The chat rules are the backend's own (docs/deploying.md, Chat rules): contact details hidden from messages
# while a booking is requested, a cancelled or completed booking's chat writable for 7 days. To change them:
#   chat_rules = {
#     contact_mask_statuses   = ["requested"]             # [] never hides them
#     contact_phone_regions   = ["FR", "BE", "CH", "LU"]  # whose national numbers are recognised
#     read_only_after_seconds = 2592000                   # 30 days; 0: read-only as soon as it closes
#   }
environment                      = "prod"
region                           = "eu-west-1"
proxy_secret_ssm_parameter_name  = "/booking-chat/prod/proxy-secret"
jwt_secret_ssm_parameter_name    = "/booking-chat/prod/jwt-secret"
service_token_ssm_parameter_name = "/booking-chat/prod/service-token"
throttling_burst_limit           = 1000
throttling_rate_limit            = 500
http_throttling_burst_limit      = 500
http_throttling_rate_limit       = 250
execution_logging_level          = "ERROR"
log_retention_days               = 90
table_deletion_protection        = true
lambda_memory_size               = 512
backend_memory_size              = 512

# Logs at a tenth of the routine lines and without Lambda's START, END and REPORT lines: every warning and
# error is still written, with the lines of its invocation (docs/deploying.md, Logs).
log_sample_rate         = 10
lambda_system_log_level = "WARN"

# Attachments (docs/deploying.md, Attachments): photos and PDFs in messages, kept in this environment's
# private bucket and checked by the media processor. Browsers upload from cors_allowed_origins (or
# attachments.allowed_origins), which therefore must not be [] here. Each attribute left out keeps the
# module's default (10 MiB, JPEG, PNG, WebP and PDF, 10 a message, uploads kept a day and unreferenced files
# two); prod processes ten uploads at once (each 1024 MB while it runs; no reservation, as for the others).
attachments = {
  maximum_concurrency = 10
}

# Retention (docs/deploying.md, Retention): every hour the retention job deletes the chat (messages, their
# files and everything that hangs on them) of bookings that ended more than this many days ago. How long is
# the marketplace's decision: GDPR's data minimisation asks that personal data be kept no longer than its
# purpose needs, and a closed booking's chat has a purpose only for so long. It must exceed the read-only
# delay (chat_rules.read_only_after_seconds, 7 days by default). Remove it to keep chats indefinitely.
# prod keeps a year, until the marketplace decides otherwise.
message_retention_days = 365
