# The booking chat's AWS side for one environment, wired together: the WebSocket API in front of the proxy
# function, the connections table, and - unless backend_url names a backend that runs elsewhere - the
# backend function the proxy invokes directly, with its chat table (or an existing PostgreSQL reached in
# its VPC) and the public HTTP API in front of it; optionally a custom domain for each API. Every function
# is module lambda-function; what each is given to do - its environment here, its permissions in iam.tf -
# is this module's, and so are the environment's alarms (alarms.tf). Unless chat_events is off, an
# EventBridge bus the backend publishes the chat's events to, for the app's own rules; with notifications, a
# queue fed by a rule on that bus and the notifier function that emails unread messages, and with web_push
# pushes them to the members' browsers too (notifications.tf); with attachments, their private bucket and
# the media processor on its upload events (attachments.tf); with message_retention_days, the retention job
# that EventBridge Scheduler runs every hour to delete the chat of bookings that ended long enough ago
# (retention.tf).
# API Gateway's account-level logging role is not part of an environment (module apigateway-account,
# applied once per account and region).
locals {
  name = "booking-chat-${var.environment}"

  # The backend is this environment's Lambda function unless backend_url names one elsewhere: then there is
  # no backend function and no chat table, and the proxy calls that URL.
  backend_function = var.backend_url == null
  chat_table       = local.backend_function && var.chat_store == "dynamodb"

  # Both functions print their embedded-metric-format lines (FanoutFailed and the other fan-out metrics,
  # the proxy's HandshakesUnauthorized, the backend's EventsPublished and EventsFailed) in this namespace
  # with the one dimension Stage, the WebSocket stage's name: the proxy takes it from each event's
  # requestContext.stage, the backend from STAGE. The alarms (alarms.tf) read them there, whichever
  # function wrote them.
  emf_dimensions = { Stage = var.environment }

  # The proxy secret, which both functions read; each secret is an SSM parameter or a Secrets Manager
  # secret, never a value.
  proxy_secret = { ssm_parameter_name = var.proxy_secret_ssm_parameter_name, secrets_manager_arn = var.proxy_secret_secrets_manager_arn }

  # The marketplace's credential for the service API, which the backend checks and the media processor
  # presents to report a processed upload.
  service_token = { ssm_parameter_name = var.service_token_ssm_parameter_name, secrets_manager_arn = var.service_token_secrets_manager_arn }

  # With PostgreSQL, the database the backend and the notifier both use.
  database_url = { ssm_parameter_name = var.database_url_ssm_parameter_name, secrets_manager_arn = var.database_url_secrets_manager_arn }

  # The HMAC key of the notification emails' unsubscribe links: the notifier signs them, the backend checks
  # them (notifications.tf).
  notify_link_secret = { ssm_parameter_name = var.notify_link_secret_ssm_parameter_name, secrets_manager_arn = var.notify_link_secret_secrets_manager_arn }

  # Web Push (with notifications): the VAPID key pair, whose public half the backend gives browsers to
  # subscribe with and whose private half the notifier signs with; and, when set, the push services' hosts,
  # which the notifier may POST to and the backend accepts subscriptions for (the same list in both).
  web_push            = var.web_push != null
  vapid_private_key   = { ssm_parameter_name = var.vapid_private_key_ssm_parameter_name, secrets_manager_arn = var.vapid_private_key_secrets_manager_arn }
  push_endpoint_hosts = local.web_push ? (var.web_push.endpoint_hosts == null ? {} : { PUSH_ENDPOINT_HOSTS = join(",", var.web_push.endpoint_hosts) }) : {}

  # The chat rules (var.chat_rules), always all four: backend_environment then shows the rules in force, and a
  # change of the code's defaults reaches no environment unasked. No status at all is "none": the backend
  # reads an empty variable as an unset one, which would mean its default (requested).
  chat_rules_environment = {
    CONTACT_MASK_STATUSES        = length(var.chat_rules.contact_mask_statuses) == 0 ? "none" : join(",", var.chat_rules.contact_mask_statuses)
    CONTACT_MASK_KINDS           = join(",", var.chat_rules.contact_mask_kinds)
    CONTACT_PHONE_REGIONS        = join(",", var.chat_rules.contact_phone_regions)
    CHAT_READ_ONLY_AFTER_SECONDS = tostring(var.chat_rules.read_only_after_seconds)
  }

  # The regions whose phone numbers the backend can read (the phonenumber crate's, libphonenumber's metadata,
  # Cargo.lock: phonenumber 0.3.10+9.0.33): ISO 3166 alpha-2 codes, and AC, TA and XK, which it numbers
  # too. chat_rules.contact_phone_regions is refused outside them, as the backend would refuse to start. A
  # newer crate that adds a region needs it added here.
  phone_regions = [
    "AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE",
    "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF",
    "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO",
    "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG",
    "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT", "HU", "ID", "IE", "IL",
    "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW",
    "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH",
    "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF",
    "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PR", "PS", "PT",
    "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK",
    "YE", "YT", "ZA", "ZM", "ZW",
  ]

  # The backend's secrets by the name it reads them under.
  backend_secrets = merge(
    {
      JWT_SECRET    = { ssm_parameter_name = var.jwt_secret_ssm_parameter_name, secrets_manager_arn = var.jwt_secret_secrets_manager_arn }
      PROXY_SECRET  = local.proxy_secret
      SERVICE_TOKEN = local.service_token
    },
    var.chat_store == "postgres" ? { DATABASE_URL = local.database_url } : {},
    # The backend checks the unsubscribe links the notifier signs.
    local.notifications ? { NOTIFY_LINK_SECRET = local.notify_link_secret } : {},
  )

  # The chat store, as every function that reads it is given it: the backend, the notifier and the retention
  # job (retention.tf). The database's URL is a secret of each, by name.
  chat_store_environment = merge(
    {
      CHAT_STORE = var.chat_store
      # The budget of one AWS call (DynamoDB, the Management API, a secret), retries included.
      AWS_TIMEOUT_MS = "3000"
    },
    local.chat_table ? { CHAT_TABLE = module.chat_table[0].name } : {},
    # Each execution environment serves one request (a batch, a pass) at a time: the database sees this times
    # the functions' concurrency.
    var.chat_store == "postgres" ? { DATABASE_MAX_CONNECTIONS = "2" } : {},
  )

  # The backend's configuration contract (backend/src/config.rs), secrets aside.
  backend_environment = merge(
    {
      APP_ENV             = var.environment
      LOG_FORMAT          = "json"
      RUST_LOG            = "info"
      LOG_SAMPLE_RATE     = tostring(var.log_sample_rate)
      CONNECTIONS_TABLE   = module.connections_table.name
      MANAGEMENT_ENDPOINT = module.websocket_api.management_endpoint
      METRICS_NAMESPACE   = var.metrics_namespace
      STAGE               = var.environment
    },
    local.chat_store_environment,
    # Where it publishes the chat's events; unset, it publishes none.
    var.chat_events ? { EVENT_BUS_NAME = aws_cloudwatch_event_bus.chat_events[0].name } : {},
    var.identity_provider == null ? {} : {
      JWT_JWKS_URL = var.identity_provider.jwks_url
      JWT_ISSUER   = var.identity_provider.issuer
      JWT_AUDIENCE = var.identity_provider.audience
    },
    # The key browsers subscribe to Web Push with (public), and the push services it accepts subscriptions for.
    local.web_push ? { VAPID_PUBLIC_KEY = var.web_push.public_key } : {},
    local.push_endpoint_hosts,
    # Contact masking and when a closed booking's chat turns read-only.
    local.chat_rules_environment,
    # With attachments: the bucket it signs uploads and downloads for, and their rules (attachments.tf).
    local.backend_attachments_environment,
    # With retention: the period, so the operator's POST /api/service/retention/run runs a pass as the
    # scheduled job does (retention.tf; the backend function never runs it on its own).
    local.retention ? { CHAT_RETENTION_DAYS = tostring(var.message_retention_days) } : {},
  )

  # The proxy's configuration contract (lambda/src/config.rs), its secret aside.
  proxy_environment = merge(
    # Exactly one way to the backend: its function's alias, invoked with IAM, or a URL.
    local.backend_function ? { BACKEND_FUNCTION = module.backend_function[0].alias_arn } : { BACKEND_URL = var.backend_url },
    {
      # How long the proxy waits for the backend before answering BACKEND_UNAVAILABLE.
      BACKEND_TIMEOUT_MS = "10000"
      CONNECTIONS_TABLE  = module.connections_table.name
      # API Gateway's frame limit is 32 KB.
      MAX_FRAME_BYTES = "32768"
      # PostToConnection calls in flight per fan-out.
      FANOUT_CONCURRENCY = "32"
      METRICS_NAMESPACE  = var.metrics_namespace
      # The JSON log lines' level; embedded-metric-format lines are printed whatever it says.
      RUST_LOG = "info"
      # One in how many invocations' routine lines are written (every warning and error is).
      LOG_SAMPLE_RATE = tostring(var.log_sample_rate)
    },
  )
}

module "connections_table" {
  source = "../connections-table"

  name                = "${local.name}-connections"
  deletion_protection = var.table_deletion_protection
  tags                = var.tags
}

module "chat_table" {
  source = "../chat-table"
  count  = local.chat_table ? 1 : 0

  name                = "${local.name}-chat"
  deletion_protection = var.table_deletion_protection
  tags                = var.tags
}

# The chat's events for the app (docs/events.md): the backend puts each one on this bus, Source booking-chat,
# DetailType the event's type, best effort; the app subscribes with rules of its own on the bus
# (docs/deploying.md, Chat events for the app). Only this account may put events on it (no bus policy).
# With a backend elsewhere the bus is still the environment's: that backend is given its name and ARN.
resource "aws_cloudwatch_event_bus" "chat_events" {
  count = var.chat_events ? 1 : 0

  name        = local.name
  description = "Booking chat events of ${var.environment} (source booking-chat): messages created, edited, deleted and read, booking status changes"
  tags        = var.tags
}

# What the bus received, kept for replay when chat_events_archive_retention_days is set (off by default:
# it keeps every message's text, a deleted one's too, until the retention ends).
resource "aws_cloudwatch_event_archive" "chat_events" {
  count = var.chat_events && var.chat_events_archive_retention_days != null ? 1 : 0

  name             = "${local.name}-events"
  description      = "Booking chat events of ${var.environment}, for replay"
  event_source_arn = aws_cloudwatch_event_bus.chat_events[0].arn
  event_pattern    = jsonencode({ source = ["booking-chat"] })
  retention_days   = var.chat_events_archive_retention_days
}

# The chat backend (backend/, crate chat-backend) on Lambda: the same axum router as the long-running server,
# served by lambda_http, behind the HTTP API and invoked directly by the proxy for the WebSocket events.
module "backend_function" {
  source = "../lambda-function"
  count  = local.backend_function ? 1 : 0

  name                   = "${local.name}-backend"
  description            = "Booking chat backend: history, bookings service API, the proxy's WebSocket events, status pushes"
  package_path           = var.backend_package_path
  architecture           = var.lambda_architecture
  memory_size            = var.backend_memory_size
  timeout_seconds        = var.backend_timeout_seconds
  environment            = local.backend_environment
  secrets                = local.backend_secrets
  secret_kms_key_arn     = var.secret_kms_key_arn
  policy_statements      = local.backend_statements
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  system_log_level       = var.lambda_system_log_level
  tags                   = var.tags
}

module "http_api" {
  source = "../http-api"
  count  = local.backend_function ? 1 : 0

  name                   = "${local.name}-http"
  lambda_function_name   = module.backend_function[0].function_name
  lambda_invoke_arn      = module.backend_function[0].invoke_arn
  lambda_qualifier       = module.backend_function[0].alias_name
  cors_allowed_origins   = var.cors_allowed_origins
  cors_allow_credentials = var.cors_allow_credentials
  throttling_burst_limit = var.http_throttling_burst_limit
  throttling_rate_limit  = var.http_throttling_rate_limit
  detailed_route_metrics = var.detailed_route_metrics
  access_logging         = var.http_access_logging
  log_retention_days     = var.log_retention_days
  log_kms_key_arn        = var.log_kms_key_arn
  tags                   = var.tags
}

# Custom domains (regional, TLS 1.2), each API's stage at the domain's root. The Management API endpoint the
# functions use stays the execute-api one: a custom domain does not serve @connections.
module "websocket_domain" {
  source = "../api-domain"
  count  = var.websocket_domain_name == null ? 0 : 1

  domain_name     = var.websocket_domain_name
  certificate_arn = var.websocket_certificate_arn
  api_id          = module.websocket_api.api_id
  stage_name      = module.websocket_api.stage_name
  tags            = var.tags
}

module "http_domain" {
  source = "../api-domain"
  count  = local.backend_function && var.http_domain_name != null ? 1 : 0

  domain_name     = var.http_domain_name
  certificate_arn = var.http_certificate_arn
  api_id          = module.http_api[0].api_id
  stage_name      = module.http_api[0].stage_name
  tags            = var.tags
}

# The Rust proxy (lambda/, crate chat-proxy): both the WebSocket API's `$connect` authorizer and the
# integration of every route, through one alias, so both always run the same version.
module "proxy_function" {
  source = "../lambda-function"

  name                 = "${local.name}-proxy"
  description          = "Booking chat: the $connect authorizer, API Gateway WebSocket events to the chat backend, connection records, fan-out"
  package_path         = var.lambda_package_path
  architecture         = var.lambda_architecture
  memory_size          = var.lambda_memory_size
  timeout_seconds      = 29 # API Gateway gives up on a WebSocket integration after 29 s anyway
  reserved_concurrency = var.lambda_reserved_concurrency
  environment          = local.proxy_environment
  secrets              = { PROXY_SECRET = local.proxy_secret }
  secret_kms_key_arn   = var.secret_kms_key_arn
  policy_statements    = local.proxy_statements
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = var.log_kms_key_arn
  system_log_level     = var.lambda_system_log_level
  tags                 = var.tags
}

module "websocket_api" {
  source = "../websocket-api"

  name                    = local.name
  stage_name              = var.environment
  lambda_function_name    = module.proxy_function.function_name
  lambda_invoke_arn       = module.proxy_function.invoke_arn
  lambda_qualifier        = module.proxy_function.alias_name
  throttling_burst_limit  = var.throttling_burst_limit
  throttling_rate_limit   = var.throttling_rate_limit
  detailed_route_metrics  = var.detailed_route_metrics
  execution_logging_level = var.execution_logging_level
  access_logging          = var.access_logging
  log_retention_days      = var.log_retention_days
  log_kms_key_arn         = var.log_kms_key_arn
  tags                    = var.tags
}
