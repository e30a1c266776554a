variable "environment" {
  description = "Environment name: part of every resource name, and the API stage."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2 to 16 lowercase letters, digits or '-', starting with a letter."
  }

  validation {
    # It is the backend's APP_ENV, and local turns on the demo page, development tokens and built-in secrets.
    condition     = var.environment != "local"
    error_message = "environment must not be local: it becomes the backend's APP_ENV, and APP_ENV=local is the development mode."
  }
}

variable "backend_url" {
  description = "Base URL of a chat backend that runs elsewhere, which the proxy then calls over HTTPS (its proxy routes reachable from Lambda; BACKEND_URL); null (the default) deploys the backend as this environment's Lambda function, with its chat table and HTTP API."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null || can(regex("^https?://[^/:?#]+", var.backend_url))
    error_message = "backend_url must be an http(s) URL."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: applied, every $connect would fail.
    condition     = var.backend_url == null || !can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^https?://([^/:?#]+)", var.backend_url)[0], ""))))
    error_message = "backend_url names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): set the real backend URL."
  }
}

variable "backend_package_path" {
  description = "The backend function's zip `make package` builds (target/lambda/<arch>/chat-backend-lambda/bootstrap.zip); required unless backend_url is set."
  type        = string
  default     = null

  validation {
    condition     = (var.backend_package_path == null) == (var.backend_url != null)
    error_message = "backend_package_path is required for the backend function (backend_url unset), and has no use with backend_url."
  }
}

variable "chat_store" {
  description = "Where the backend function keeps the chat: dynamodb (a chat table created here) or postgres (an existing database: database_url_* and vpc_* inputs)."
  type        = string
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "postgres"], var.chat_store)
    error_message = "chat_store must be dynamodb or postgres."
  }

  validation {
    condition     = var.chat_store == "dynamodb" || var.backend_url == null
    error_message = "chat_store = postgres configures the backend function; with backend_url the backend runs elsewhere."
  }
}

variable "backend_memory_size" {
  description = "Memory of the backend function in MB."
  type        = number
  default     = 256
}

variable "backend_timeout_seconds" {
  description = "Timeout of the backend function (at most 29 s: the WebSocket path gives up then, the HTTP API at 30 s)."
  type        = number
  default     = 10

  validation {
    # The proxy waits on it over the WebSocket path, which API Gateway gives up on at 29 s.
    condition     = var.backend_timeout_seconds >= 3 && var.backend_timeout_seconds <= 29
    error_message = "backend_timeout_seconds must be between 3 and 29 (API Gateway gives up at 29 s on the WebSocket path, at 30 s on the HTTP API)."
  }
}

variable "chat_rules" {
  description = "The backend function's chat rules (docs/protocol.md, Contact details before a booking is confirmed). contact_mask_statuses (CONTACT_MASK_STATUSES): the booking statuses (requested, confirmed, active, completed, cancelled) during which phone numbers, email addresses, links and messaging handles are hidden from a message before it is stored; [] for never (passed as none, since the backend reads an empty variable as unset). contact_mask_kinds (CONTACT_MASK_KINDS): which of phone, email, link and handle are hidden, at least one. contact_phone_regions (CONTACT_PHONE_REGIONS): the countries (ISO 3166 alpha-2 codes in upper case that libphonenumber knows: GB, not UK) whose national phone numbers are recognised, at least one; international numbers always are. read_only_after_seconds (CHAT_READ_ONLY_AFTER_SECONDS, a whole number from 0 to 31536000): how long a cancelled or completed booking's chat stays writable, 0 for read-only at once. {} (the default) is the backend's own defaults. All four are always passed, defaults included, so that backend_environment shows the rules in force and a later change of the code's defaults changes no deployed environment unasked. Only with the backend function (a backend elsewhere reads its own environment)."
  type = object({
    contact_mask_statuses   = optional(list(string), ["requested"])
    contact_mask_kinds      = optional(list(string), ["phone", "email", "link", "handle"])
    contact_phone_regions   = optional(list(string), ["US", "GB", "FR", "DE", "ES", "IT", "NL"])
    read_only_after_seconds = optional(number, 604800)
  })
  default  = {}
  nullable = false

  validation {
    # The backend refuses to start on a status it does not know (store/src/domain.rs BookingStatus).
    condition     = try(alltrue([for status in var.chat_rules.contact_mask_statuses : contains(["requested", "confirmed", "active", "completed", "cancelled"], status)]), false)
    error_message = "chat_rules.contact_mask_statuses must be booking statuses: requested, confirmed, active, completed, cancelled; [] (not [\"none\"]) hides nothing."
  }

  validation {
    # An empty CONTACT_MASK_KINDS is read as unset, which is all four: no masking is an empty status list.
    condition     = try(length(var.chat_rules.contact_mask_kinds) > 0 && alltrue([for kind in var.chat_rules.contact_mask_kinds : contains(["phone", "email", "link", "handle"], kind)]), false)
    error_message = "chat_rules.contact_mask_kinds must be one or more of phone, email, link, handle (an empty list would reach the backend as unset, all four: to hide nothing, set contact_mask_statuses = [])."
  }

  validation {
    # An empty CONTACT_PHONE_REGIONS is read as unset, which is the default seven.
    condition     = try(length(var.chat_rules.contact_phone_regions) > 0 && alltrue([for code in var.chat_rules.contact_phone_regions : can(regex("^[A-Z]{2}$", code))]), false)
    error_message = "chat_rules.contact_phone_regions must be one or more ISO 3166 alpha-2 codes in upper case, such as GB (an empty list would reach the backend as unset, the default seven)."
  }

  validation {
    # Two letters are not yet a region: the backend refuses to start on a code its phone metadata does not
    # know, and a failed start fails every request (UK, for one, is GB).
    condition     = try(alltrue([for code in var.chat_rules.contact_phone_regions : contains(local.phone_regions, code) if can(regex("^[A-Z]{2}$", code))]), false)
    error_message = "chat_rules.contact_phone_regions has codes the backend's phone metadata (libphonenumber) does not know, and the backend would refuse to start: ${try(join(", ", [for code in var.chat_rules.contact_phone_regions : code if can(regex("^[A-Z]{2}$", code)) && !contains(local.phone_regions, code)]), "?")} (the United Kingdom is GB)."
  }

  validation {
    condition     = try(var.chat_rules.read_only_after_seconds >= 0 && var.chat_rules.read_only_after_seconds <= 31536000 && floor(var.chat_rules.read_only_after_seconds) == var.chat_rules.read_only_after_seconds, false)
    error_message = "chat_rules.read_only_after_seconds must be a whole number of seconds from 0 (read-only as soon as the booking is cancelled or completed) to 31536000 (a year)."
  }

  validation {
    # Refused rather than ignored, as the backend's other inputs are: rules given here would not apply.
    condition = var.backend_url == null || var.chat_rules == {
      contact_mask_statuses   = tolist(["requested"])
      contact_mask_kinds      = tolist(["phone", "email", "link", "handle"])
      contact_phone_regions   = tolist(["US", "GB", "FR", "DE", "ES", "IT", "NL"])
      read_only_after_seconds = 604800
    }
    error_message = "chat_rules configure the backend function; with backend_url the backend runs elsewhere and reads CONTACT_MASK_STATUSES, CONTACT_MASK_KINDS, CONTACT_PHONE_REGIONS and CHAT_READ_ONLY_AFTER_SECONDS from its own environment."
  }
}

variable "jwt_secret_ssm_parameter_name" {
  description = "SSM SecureString parameter holding the HS256 key of user tokens, the backend's JWT_SECRET (or use the Secrets Manager ARN)."
  type        = string
  default     = null
}

variable "jwt_secret_secrets_manager_arn" {
  description = "Complete ARN of the Secrets Manager secret holding the backend's JWT_SECRET (or use the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null ? (var.jwt_secret_ssm_parameter_name == null) != (var.jwt_secret_secrets_manager_arn == null) : (var.jwt_secret_ssm_parameter_name == null && var.jwt_secret_secrets_manager_arn == null)
    error_message = "The backend function needs exactly one of jwt_secret_ssm_parameter_name and jwt_secret_secrets_manager_arn; with backend_url, set neither (that backend holds its own secrets)."
  }
}

variable "identity_provider" {
  description = "An identity provider (Cognito, Auth0) whose RS256/ES256 tokens the backend function accepts beside the HS256 ones: its JWKS URL, its tokens' issuer and this application's audience, the backend's JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE; null for HS256 tokens only. In a VPC, the subnets need a route to the provider. Ignored with backend_url."
  type = object({
    jwks_url = string
    issuer   = string
    audience = string
  })
  default = null

  validation {
    condition     = var.identity_provider == null || try(startswith(var.identity_provider.jwks_url, "https://") && length(var.identity_provider.issuer) > 0 && length(var.identity_provider.audience) > 0, false)
    error_message = "identity_provider needs an https:// jwks_url, an issuer and an audience: the backend refuses a provider's tokens without both."
  }
}

variable "service_token_ssm_parameter_name" {
  description = "SSM SecureString parameter holding the marketplace's service credential, the backend's SERVICE_TOKEN (or use the Secrets Manager ARN)."
  type        = string
  default     = null
}

variable "service_token_secrets_manager_arn" {
  description = "Complete ARN of the Secrets Manager secret holding the backend's SERVICE_TOKEN (or use the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null ? (var.service_token_ssm_parameter_name == null) != (var.service_token_secrets_manager_arn == null) : (var.service_token_ssm_parameter_name == null && var.service_token_secrets_manager_arn == null)
    error_message = "The backend function needs exactly one of service_token_ssm_parameter_name and service_token_secrets_manager_arn; with backend_url, set neither (that backend holds its own secrets)."
  }
}

variable "database_url_ssm_parameter_name" {
  description = "With chat_store = postgres: SSM SecureString parameter holding the backend's DATABASE_URL (postgres://...)."
  type        = string
  default     = null
}

variable "database_url_secrets_manager_arn" {
  description = "With chat_store = postgres: complete ARN of the Secrets Manager secret holding the backend's DATABASE_URL."
  type        = string
  default     = null

  validation {
    condition     = var.chat_store == "postgres" && var.backend_url == null ? (var.database_url_ssm_parameter_name == null) != (var.database_url_secrets_manager_arn == null) : (var.database_url_ssm_parameter_name == null && var.database_url_secrets_manager_arn == null)
    error_message = "chat_store = postgres needs exactly one of database_url_ssm_parameter_name and database_url_secrets_manager_arn; the DynamoDB store needs neither."
  }
}

variable "vpc_subnet_ids" {
  description = "With chat_store = postgres: subnets the backend function (and the notifier) runs in to reach the database; they need a route to DynamoDB, SSM or Secrets Manager, the Management API, with chat_events EventBridge, and with notifications SQS and SES (NAT, or VPC endpoints); with web_push, the push services on the internet (NAT only: they have no VPC endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_subnet_ids) > 0) == (var.chat_store == "postgres" && var.backend_url == null)
    error_message = "vpc_subnet_ids are required with chat_store = postgres (the database is in a VPC), and unused otherwise: leave them empty."
  }
}

variable "vpc_security_group_ids" {
  description = "With chat_store = postgres: security groups of the backend function and the notifier (allowed to the database and to HTTPS)."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_security_group_ids) > 0) == (var.chat_store == "postgres" && var.backend_url == null)
    error_message = "vpc_security_group_ids are required with chat_store = postgres, and unused otherwise: leave them empty."
  }
}

variable "cors_allowed_origins" {
  description = "Browser origins allowed to call the HTTP API (full https origins, e.g. the marketplace's web app); empty for no CORS. Only with the backend function."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.cors_allowed_origins) == 0 || var.backend_url == null
    error_message = "cors_allowed_origins configures the HTTP API of the backend function; with backend_url there is none."
  }
}

variable "cors_allow_credentials" {
  description = "Access-Control-Allow-Credentials on the HTTP API (cookies); bearer tokens do not need it."
  type        = bool
  default     = false
}

variable "http_throttling_burst_limit" {
  description = "HTTP API stage burst limit (unused with backend_url)."
  type        = number
  default     = 100
}

variable "http_throttling_rate_limit" {
  description = "HTTP API stage steady-state requests per second (unused with backend_url)."
  type        = number
  default     = 50
}

variable "http_access_logging" {
  description = "JSON access logs of the HTTP API (written with the deploying identity's CloudWatch Logs permissions; API Gateway's account role is not needed)."
  type        = bool
  default     = true
}

variable "websocket_domain_name" {
  description = "Custom domain of the WebSocket API (clients then connect to wss://{domain}, no stage in the path); null for none. Its DNS record is yours to create (outputs websocket_domain_dns)."
  type        = string
  default     = null

  validation {
    condition     = var.websocket_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.websocket_domain_name))
    error_message = "websocket_domain_name must be a fully qualified domain name in lowercase, such as chat.yourcompany.com (no scheme, path or wildcard)."
  }
}

variable "websocket_certificate_arn" {
  description = "ACM certificate covering websocket_domain_name, issued in this environment's region; with websocket_domain_name."
  type        = string
  default     = null

  validation {
    condition     = (var.websocket_certificate_arn == null) == (var.websocket_domain_name == null)
    error_message = "websocket_domain_name and websocket_certificate_arn go together: both set, or neither."
  }

  validation {
    condition     = var.websocket_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:certificate/[a-zA-Z0-9-]+$", var.websocket_certificate_arn))
    error_message = "websocket_certificate_arn must be an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID."
  }
}

variable "http_domain_name" {
  description = "Custom domain of the HTTP API (https://{domain}/api/...); only with the backend function; null for none. Its DNS record is yours to create (outputs http_domain_dns)."
  type        = string
  default     = null

  validation {
    condition     = var.http_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.http_domain_name))
    error_message = "http_domain_name must be a fully qualified domain name in lowercase, such as chat.yourcompany.com (no scheme, path or wildcard)."
  }

  validation {
    condition     = var.http_domain_name == null || var.backend_url == null
    error_message = "http_domain_name is the HTTP API's domain, and with backend_url there is no HTTP API."
  }

  validation {
    # API Gateway cannot map a WebSocket API and an HTTP API to one custom domain.
    condition     = var.http_domain_name == null || var.http_domain_name != var.websocket_domain_name
    error_message = "The WebSocket API and the HTTP API need two domain names: API Gateway cannot map both kinds of API to one."
  }
}

variable "http_certificate_arn" {
  description = "ACM certificate covering http_domain_name, issued in this environment's region; with http_domain_name."
  type        = string
  default     = null

  validation {
    condition     = (var.http_certificate_arn == null) == (var.http_domain_name == null)
    error_message = "http_domain_name and http_certificate_arn go together: both set, or neither."
  }

  validation {
    condition     = var.http_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:certificate/[a-zA-Z0-9-]+$", var.http_certificate_arn))
    error_message = "http_certificate_arn must be an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID."
  }
}

variable "proxy_secret_ssm_parameter_name" {
  description = "SSM SecureString parameter holding the secret the proxy and the backend share (the proxy's and the backend function's PROXY_SECRET; or use the Secrets Manager ARN)."
  type        = string
  default     = null
}

variable "proxy_secret_secrets_manager_arn" {
  description = "Complete ARN of the Secrets Manager secret holding the proxy secret (or use the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = (var.proxy_secret_secrets_manager_arn == null) != (var.proxy_secret_ssm_parameter_name == null)
    error_message = "Set exactly one of proxy_secret_ssm_parameter_name and proxy_secret_secrets_manager_arn."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key encrypting the secrets, if any (every function gets kms:Decrypt on it)."
  type        = string
  default     = null
}

variable "lambda_package_path" {
  description = "The proxy function's zip `make package` builds (target/lambda/<arch>/chat-proxy/bootstrap.zip)."
  type        = string
}

variable "lambda_architecture" {
  description = "arm64 or x86_64, matching both packages."
  type        = string
  default     = "arm64"
}

variable "lambda_memory_size" {
  description = "Memory of the proxy function in MB."
  type        = number
  default     = 256
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the proxy function: null (unreserved) or at least 1."
  type        = number
  default     = null
}

variable "throttling_burst_limit" {
  description = "WebSocket stage burst limit."
  type        = number
}

variable "throttling_rate_limit" {
  description = "WebSocket stage steady-state requests per second."
  type        = number
}

variable "execution_logging_level" {
  description = "API Gateway execution logs: OFF, ERROR or INFO (anything but OFF needs API Gateway's CloudWatch role in the region's account settings)."
  type        = string
  default     = "ERROR"
}

variable "access_logging" {
  description = "JSON access logs of the stage. Like execution logging, needs API Gateway's CloudWatch role in the region's account settings."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of every log group (both functions, the stages' access and execution logs)."
  type        = number
}

variable "log_sample_rate" {
  description = "One in how many invocations' routine log lines the proxy and the backend write (their LOG_SAMPLE_RATE): every warning and error is written, and the lines of an invocation that logged one; 1 writes every line. Each function decides per invocation, at random."
  type        = number
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 1 && var.log_sample_rate <= 1000 && floor(var.log_sample_rate) == var.log_sample_rate
    error_message = "log_sample_rate must be a whole number from 1 (every line) to 1000."
  }
}

variable "lambda_system_log_level" {
  description = "Which of Lambda's own log lines every function's log group receives: null keeps the text format with its START, END and REPORT lines (about 330 bytes an invocation); DEBUG, INFO or WARN turn on Lambda's JSON log format and write Lambda's lines from that level (WARN: timeouts and crashes only). The functions' own lines are written either way."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_system_log_level == null || contains(["DEBUG", "INFO", "WARN"], coalesce(var.lambda_system_log_level, "-"))
    error_message = "lambda_system_log_level must be null (the text format), DEBUG, INFO or WARN."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting every log group; null for CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "table_deletion_protection" {
  description = "Deletion protection of the connections table and the chat table."
  type        = bool
}

variable "chat_events" {
  description = "Publish the chat's events (message.created, message.edited, message.deleted, message.read, booking.status_changed) to an EventBridge bus of this environment, booking-chat-<environment>, for the app's own rules: the bus, the backend function's EVENT_BUS_NAME and events:PutEvents on that bus, the events-failed alarm. Off: none of them, and the backend publishes nothing."
  type        = bool
  default     = true
}

variable "chat_events_archive_retention_days" {
  description = "Days an EventBridge archive of the bus keeps every chat event, for replay (aws events start-replay); null (the default) for no archive. Archived events hold messages' text, a deleted message's too, until they expire."
  type        = number
  default     = null

  validation {
    # 0 is EventBridge's "forever": chat text, deleted messages' included, would never expire.
    condition     = var.chat_events_archive_retention_days == null || try(var.chat_events_archive_retention_days >= 1 && floor(var.chat_events_archive_retention_days) == var.chat_events_archive_retention_days, false)
    error_message = "chat_events_archive_retention_days must be null (no archive) or a whole number of days of at least 1: 0 would keep chat text forever."
  }

  validation {
    condition     = var.chat_events_archive_retention_days == null || var.chat_events
    error_message = "chat_events_archive_retention_days archives the chat events' bus, and with chat_events off there is none."
  }
}

variable "notifications" {
  description = "Email members about chat messages they have not read (the notifier function, docs/deploying.md, Email notifications); null (the default) for none. email_from is the From header (\"Booking chat <chat@yourcompany.com>\" or an address) on ses_identity, the SES identity (a domain, or the address) the deployer verified in this region, whose ARN alone the function may send as; booking_url the marketplace's page of a booking's chat, with {booking_id}; delay_seconds (0 to 900) how long a message waits unread before it is emailed; min_interval_seconds the least time between two emails to one member about one booking; configuration_set an SES configuration set to send with; maximum_concurrency the most notifier invocations at once (2 to 1000; SES's sending rate bounds what helps). Needs chat_events, the backend function, and the notify_link_secret_* secret."
  type = object({
    email_from           = string
    booking_url          = string
    ses_identity         = string
    delay_seconds        = optional(number, 180)
    min_interval_seconds = optional(number, 900)
    configuration_set    = optional(string)
    maximum_concurrency  = optional(number, 2)
  })
  default = null

  validation {
    # The notifier is fed by a rule on the chat events' bus.
    condition     = var.notifications == null || var.chat_events
    error_message = "notifications read the chat events' message.created from their bus: they need chat_events = true."
  }

  validation {
    # It reads and writes the chat store the backend function uses, and links to that backend's HTTP API.
    condition     = var.notifications == null || var.backend_url == null
    error_message = "notifications need the backend function (its chat store and HTTP API): with backend_url the backend runs elsewhere."
  }

  validation {
    condition     = var.notifications == null || try(startswith(var.notifications.booking_url, "https://") && strcontains(var.notifications.booking_url, "{booking_id}"), false)
    error_message = "notifications.booking_url must be an https:// URL containing {booking_id}, e.g. https://app.yourcompany.com/bookings/{booking_id}/chat."
  }

  validation {
    # "Name <address>" or a bare address; the address is what SES authorises against ses_identity.
    condition     = var.notifications == null || can(regex("^([^<>]+<[^<>@\\s]+@[^<>@\\s]+>|[^<>@\\s]+@[^<>@\\s]+)$", var.notifications.email_from))
    error_message = "notifications.email_from must be an address or \"Display name <address>\"."
  }

  validation {
    # IAM allows sending as ses_identity only: an address outside it would be refused at every send.
    condition = var.notifications == null || try(anytrue([
      for address in [lower(regex("([^<>@\\s]+@[^<>@\\s]+)>?$", var.notifications.email_from)[0])] :
      contains([address, split("@", address)[1]], lower(var.notifications.ses_identity)) || endswith(split("@", address)[1], ".${lower(var.notifications.ses_identity)}")
    ]), false)
    error_message = "notifications.ses_identity must be email_from's address, its domain or a parent domain: the notifier may send as that identity only."
  }

  validation {
    condition     = var.notifications == null || try(var.notifications.delay_seconds >= 0 && var.notifications.delay_seconds <= 900 && floor(var.notifications.delay_seconds) == var.notifications.delay_seconds, false)
    error_message = "notifications.delay_seconds must be a whole number from 0 to 900 (SQS delays a message 15 minutes at most)."
  }

  validation {
    condition     = var.notifications == null || try(var.notifications.min_interval_seconds >= 0 && var.notifications.min_interval_seconds <= 86400 && floor(var.notifications.min_interval_seconds) == var.notifications.min_interval_seconds, false)
    error_message = "notifications.min_interval_seconds must be a whole number from 0 to 86400 (a day)."
  }

  validation {
    condition     = var.notifications == null || try(var.notifications.configuration_set == null || can(regex("^[a-zA-Z0-9_-]{1,64}$", var.notifications.configuration_set)), false)
    error_message = "notifications.configuration_set must be an SES configuration set's name (letters, digits, '-' and '_', at most 64)."
  }

  validation {
    # Lambda's bounds for an SQS event source's maximum concurrency.
    condition     = var.notifications == null || try(var.notifications.maximum_concurrency >= 2 && var.notifications.maximum_concurrency <= 1000 && floor(var.notifications.maximum_concurrency) == var.notifications.maximum_concurrency, false)
    error_message = "notifications.maximum_concurrency must be a whole number from 2 to 1000 (Lambda's bounds for an SQS event source)."
  }
}

variable "notify_link_secret_ssm_parameter_name" {
  description = "With notifications: SSM SecureString parameter holding the HMAC key of the emails' unsubscribe links, NOTIFY_LINK_SECRET of the notifier (which signs them) and of the backend function (which checks them); or use the Secrets Manager ARN."
  type        = string
  default     = null
}

variable "notify_link_secret_secrets_manager_arn" {
  description = "With notifications: complete ARN of the Secrets Manager secret holding NOTIFY_LINK_SECRET (or use the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.notifications != null ? (var.notify_link_secret_ssm_parameter_name == null) != (var.notify_link_secret_secrets_manager_arn == null) : (var.notify_link_secret_ssm_parameter_name == null && var.notify_link_secret_secrets_manager_arn == null)
    error_message = "notifications need exactly one of notify_link_secret_ssm_parameter_name and notify_link_secret_secrets_manager_arn; without notifications, set neither."
  }
}

variable "web_push" {
  description = "With notifications: Web Push to the browsers members subscribed, beside the emails (VAPID, RFC 8292; payloads encrypted, RFC 8291); null (the default) for none. public_key is the VAPID public key, base64url without padding of the 65-byte uncompressed P-256 point (87 characters starting with B, as `npx web-push generate-vapid-keys` prints it): the backend function's VAPID_PUBLIC_KEY, which browsers subscribe with; its private key is the vapid_private_key_* secret. subject (VAPID_SUBJECT) is the contact push services see, mailto:address or an https:// URL. endpoint_hosts (PUSH_ENDPOINT_HOSTS of both functions) are the host suffixes of the push services the notifier may POST to and the backend accepts subscriptions for; null keeps the notifier's built-in list (FCM, Mozilla, Apple, Windows), which a list replaces. ttl_seconds (PUSH_TTL_SECONDS, 0 to 2419200) is how long a push service keeps a notification it could not deliver yet; failed_alarm_threshold the failed pushes in 15 minutes above which the push-failed alarm fires. In a VPC (chat_store = postgres) the notifier reaches the push services through the subnets' NAT: they have no VPC endpoints."
  type = object({
    public_key             = string
    subject                = string
    endpoint_hosts         = optional(list(string))
    ttl_seconds            = optional(number, 86400)
    failed_alarm_threshold = optional(number, 20)
  })
  default = null

  validation {
    # The notifier sends the pushes, beside the emails.
    condition     = var.web_push == null || var.notifications != null
    error_message = "web_push is sent by the notifier: it needs notifications."
  }

  validation {
    # 65 bytes are 87 base64url characters: 0x04 (uncompressed) makes the first B and the second one of
    # A to P, and the last carries 4 bits and two zero bits.
    condition     = var.web_push == null || try(can(regex("^B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048]$", var.web_push.public_key)), false)
    error_message = "web_push.public_key must be the VAPID public key as base64url without padding of the 65-byte uncompressed P-256 point: 87 characters starting with B (npx web-push generate-vapid-keys prints it), not the private key, not PEM."
  }

  validation {
    condition     = var.web_push == null || try(can(regex("^(mailto:[^@\\s]+@[^@\\s]+|https://[^/?#\\s]+[^\\s]*)$", var.web_push.subject)), false)
    error_message = "web_push.subject must be mailto:address or an https:// URL (RFC 8292): whom push services contact about this sender."
  }

  validation {
    # Host suffixes, which the notifier matches against each subscription's endpoint: names only (no
    # scheme, port, path or IP address), and at least two labels, as a single one would admit a whole TLD.
    condition = var.web_push == null ? true : (var.web_push.endpoint_hosts == null ? true : try(length(var.web_push.endpoint_hosts) > 0 && alltrue([
      for host in var.web_push.endpoint_hosts : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", host))
    ]), false))
    error_message = "web_push.endpoint_hosts must be null (the notifier's built-in push services) or a non-empty list of lowercase host names such as fcm.googleapis.com: no scheme, port, path, IP address or single label."
  }

  validation {
    # 28 days: the longest FCM keeps a message.
    condition     = var.web_push == null || try(var.web_push.ttl_seconds >= 0 && var.web_push.ttl_seconds <= 2419200 && floor(var.web_push.ttl_seconds) == var.web_push.ttl_seconds, false)
    error_message = "web_push.ttl_seconds must be a whole number from 0 to 2419200 (28 days, the longest FCM keeps a notification)."
  }

  validation {
    condition     = var.web_push == null || try(var.web_push.failed_alarm_threshold >= 0 && floor(var.web_push.failed_alarm_threshold) == var.web_push.failed_alarm_threshold, false)
    error_message = "web_push.failed_alarm_threshold must be a whole number of at least 0."
  }
}

variable "vapid_private_key_ssm_parameter_name" {
  description = "With web_push: SSM SecureString parameter holding the VAPID private key, base64url without padding of the 32-byte P-256 private scalar (as `npx web-push generate-vapid-keys` prints it), the notifier's VAPID_PRIVATE_KEY, which it signs its pushes with (the backend function never reads it); or use the Secrets Manager ARN."
  type        = string
  default     = null
}

variable "vapid_private_key_secrets_manager_arn" {
  description = "With web_push: complete ARN of the Secrets Manager secret holding VAPID_PRIVATE_KEY (or use the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.web_push != null ? (var.vapid_private_key_ssm_parameter_name == null) != (var.vapid_private_key_secrets_manager_arn == null) : (var.vapid_private_key_ssm_parameter_name == null && var.vapid_private_key_secrets_manager_arn == null)
    error_message = "web_push needs exactly one of vapid_private_key_ssm_parameter_name and vapid_private_key_secrets_manager_arn; without web_push, set neither."
  }
}

variable "notifier_package_path" {
  description = "The notifier function's zip `make package` builds (target/lambda/<arch>/chat-notifier/bootstrap.zip); required with notifications, unused without."
  type        = string
  default     = null

  validation {
    condition     = (var.notifier_package_path == null) == (var.notifications == null)
    error_message = "notifier_package_path is required with notifications, and has no use without them."
  }
}

variable "attachments" {
  description = "Photos and documents attached to messages (docs/attachments.md; docs/deploying.md, Attachments); null (the default) for none. {} turns them on with these defaults: a private S3 bucket of this environment, its upload events on a queue, and the media processor function (media/, crate chat-media) on that queue. max_bytes (ATTACHMENTS_MAX_BYTES, 10485760: 10 MiB, at most 50 MiB) is the largest file; types (ATTACHMENTS_TYPES) what may be declared and is kept, among image/jpeg, image/png, image/webp and application/pdf; per_message (ATTACHMENTS_PER_MESSAGE, 10) the most on one message; upload_ttl_seconds and download_ttl_seconds (ATTACHMENTS_UPLOAD_TTL_SECONDS and ATTACHMENTS_DOWNLOAD_TTL_SECONDS, 300, from 60 to 3600) how long an upload form and a download URL are valid. upload_days (1) is when an upload the processor never took is deleted, unreferenced_days (2) when a processed file no message uses is (both lifecycle rules, counted from the object's creation). allowed_origins (null: cors_allowed_origins) are the browser origins that may POST uploads to the bucket and GET downloads from it (CORS); none, no CORS rule, and browsers cannot upload. kms_key_arn a customer managed KMS key for the bucket (null: SSE-S3, AES256). memory_size (1024 MB: a decoded 12-megapixel photo), maximum_concurrency (5, from 2 to 1000) and reserved_concurrency (null: none) size the processor. Needs the backend function, and media_package_path."
  type = object({
    max_bytes            = optional(number, 10485760)
    types                = optional(list(string), ["image/jpeg", "image/png", "image/webp", "application/pdf"])
    per_message          = optional(number, 10)
    upload_ttl_seconds   = optional(number, 300)
    download_ttl_seconds = optional(number, 300)
    upload_days          = optional(number, 1)
    unreferenced_days    = optional(number, 2)
    allowed_origins      = optional(list(string))
    kms_key_arn          = optional(string)
    memory_size          = optional(number, 1024)
    maximum_concurrency  = optional(number, 5)
    reserved_concurrency = optional(number)
  })
  default = null

  validation {
    # The backend function signs the uploads and downloads with its role, and the processor reports to it.
    condition     = var.attachments == null || var.backend_url == null
    error_message = "attachments need the backend function (it signs uploads and downloads with its role, and the processor reports to its HTTP API): with backend_url the backend runs elsewhere."
  }

  validation {
    # The processor holds a whole file in memory, and an image's decoded pixels beside it.
    condition     = var.attachments == null || try(var.attachments.max_bytes >= 1 && var.attachments.max_bytes <= 52428800 && floor(var.attachments.max_bytes) == var.attachments.max_bytes, false)
    error_message = "attachments.max_bytes must be a whole number of bytes from 1 to 52428800 (50 MiB): the processor holds a whole file, and an image's decoded pixels, in its memory."
  }

  validation {
    # What the processor can read from the bytes and keep; HEIC has no decoder without a C library.
    condition     = var.attachments == null || try(length(var.attachments.types) > 0 && alltrue([for type in var.attachments.types : contains(["image/jpeg", "image/png", "image/webp", "application/pdf"], type)]), false)
    error_message = "attachments.types must be one or more of image/jpeg, image/png, image/webp and application/pdf: the types the processor recognises and keeps (HEIC is refused: docs/attachments.md)."
  }

  validation {
    condition     = var.attachments == null || try(var.attachments.per_message >= 1 && floor(var.attachments.per_message) == var.attachments.per_message, false)
    error_message = "attachments.per_message must be a whole number of at least 1."
  }

  validation {
    # Short-lived is the point; a URL signed with the function's temporary credentials also stops working
    # when those expire, which can come sooner than an hour.
    condition = var.attachments == null || try(alltrue([for ttl in [var.attachments.upload_ttl_seconds, var.attachments.download_ttl_seconds] :
    ttl >= 60 && ttl <= 3600 && floor(ttl) == ttl]), false)
    error_message = "attachments.upload_ttl_seconds and download_ttl_seconds must be whole numbers of seconds from 60 to 3600: an upload form or a download URL is for the moment it is asked for."
  }

  validation {
    # S3 lifecycle rules count whole days, at least one.
    condition = var.attachments == null || try(alltrue([for days in [var.attachments.upload_days, var.attachments.unreferenced_days] :
    days >= 1 && floor(days) == days]), false)
    error_message = "attachments.upload_days and unreferenced_days must be whole numbers of days of at least 1 (S3 lifecycle rules count whole days)."
  }

  validation {
    condition = var.attachments == null ? true : (var.attachments.allowed_origins == null ? true : alltrue([for origin in var.attachments.allowed_origins :
    origin == "*" || can(regex("^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$", origin))]))
    error_message = "attachments.allowed_origins must be full https origins in lowercase, https://host or https://host:port, without a path or trailing slash (browsers send exactly that in Origin), or null for cors_allowed_origins."
  }

  validation {
    # IAM matches a key's ARN, not an alias.
    condition     = var.attachments == null ? true : (var.attachments.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.attachments.kms_key_arn)))
    error_message = "attachments.kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM does not match aliases."
  }

  validation {
    # Lambda's bounds for an SQS event source's maximum concurrency.
    condition     = var.attachments == null || try(var.attachments.maximum_concurrency >= 2 && var.attachments.maximum_concurrency <= 1000 && floor(var.attachments.maximum_concurrency) == var.attachments.maximum_concurrency, false)
    error_message = "attachments.maximum_concurrency must be a whole number from 2 to 1000 (Lambda's bounds for an SQS event source)."
  }

  validation {
    # A reservation below the mapping's concurrency throttles the invocations the mapping makes.
    condition     = var.attachments == null ? true : (var.attachments.reserved_concurrency == null || try(var.attachments.reserved_concurrency >= var.attachments.maximum_concurrency, false))
    error_message = "attachments.reserved_concurrency, when set, must be at least maximum_concurrency: below it, the event source mapping's invocations are throttled."
  }
}

variable "media_package_path" {
  description = "The media processor function's zip `make package` builds (target/lambda/<arch>/chat-media/bootstrap.zip); required with attachments, unused without."
  type        = string
  default     = null

  validation {
    condition     = (var.media_package_path == null) == (var.attachments == null)
    error_message = "media_package_path is required with attachments, and has no use without them."
  }
}

variable "message_retention_days" {
  description = "How many days the chat of a booking that ended is kept (docs/deploying.md, Retention): every hour EventBridge Scheduler invokes the retention job, the backend's package run as a function of its own (<name>-retention, CHAT_JOB=retention, CHAT_RETENTION_DAYS), which deletes the messages of bookings that ended more than this many days ago, with their reactions, read positions, idempotency keys, attachments' records and files; null (the default) for none: no function, no schedule, and the chat is kept as long as its store is. How long is the marketplace's decision (GDPR data minimisation: no longer than needed), a whole number of days from 1 to 3650, and longer than chat_rules.read_only_after_seconds (a chat that members may still write in is never deleted). Needs the backend function."
  type        = number
  default     = null

  validation {
    condition     = var.message_retention_days == null || try(var.message_retention_days >= 1 && var.message_retention_days <= 3650 && floor(var.message_retention_days) == var.message_retention_days, false)
    error_message = "message_retention_days must be null (the chat is kept) or a whole number of days from 1 to 3650 (ten years)."
  }

  validation {
    # The job runs the backend's package against the backend's store, which a backend elsewhere keeps itself.
    condition     = var.message_retention_days == null || var.backend_url == null
    error_message = "message_retention_days runs the backend function's package against its chat store: with backend_url the backend and its store are elsewhere (that backend runs its own retention job)."
  }

  validation {
    # A booking's chat stays writable read_only_after_seconds after it ended: deleting it before then would
    # delete what members are still writing.
    condition     = var.message_retention_days == null || try(var.message_retention_days * 86400 > var.chat_rules.read_only_after_seconds, true)
    error_message = "message_retention_days must be longer than chat_rules.read_only_after_seconds (${try(var.chat_rules.read_only_after_seconds, "?")} s): a chat members may still write in would be deleted."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the embedded-metric-format metrics the functions print (FanoutFailed and the other fan-out metrics, HandshakesUnauthorized, EventsPublished and EventsFailed, the notifier's NotificationsSent, NotificationsSkipped, NotificationsDeferred and NotificationsFailed, and with web_push PushSent, PushGone and PushFailed), their METRICS_NAMESPACE, and where the alarms read them."
  type        = string
  default     = "BookingChat"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 letters, digits or . - _ / # :, and not start with AWS/ (reserved for AWS)."
  }
}

variable "detailed_route_metrics" {
  description = "Per-route CloudWatch metrics of both APIs' stages, which CloudWatch bills as custom metrics (up to 18 for the WebSocket API's three routes, 102 for the HTTP API's seventeen); off, the stage-wide metrics the alarms read remain, and the access logs hold each request's route, status and latency."
  type        = bool
  default     = false
}

variable "alarm_topic_arn" {
  description = "SNS topic (in this environment's region) for every alarm; null for alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:[a-zA-Z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME."
  }
}

variable "tags" {
  description = "Tags added to every resource (the provider's default tags come on top)."
  type        = map(string)
  default     = {}
}
