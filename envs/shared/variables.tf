variable "environment" {
  description = "The environment's name, which is its directory's (envs/<environment>): part of every resource name, the WebSocket stage, the backend's APP_ENV."
  type        = string

  validation {
    # A root copied for a new environment keeps its old name until told: it would plan the other
    # environment's resources (and collide with them, or with its state).
    condition     = var.environment == basename(abspath(path.root))
    error_message = "environment must be the name of the root's directory, envs/${basename(abspath(path.root))}: set environment = \"${basename(abspath(path.root))}\" in its terraform.tfvars."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "backend_url" {
  description = "Base URL of a chat backend that runs elsewhere (its proxy routes reachable from Lambda). Unset (the default), the backend is deployed as this environment's Lambda function with its chat table and HTTP API."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null || can(regex("^https://[^/:?#]+", var.backend_url))
    error_message = "backend_url must be an https:// URL (the proxy secret travels in a header)."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: applied, every $connect would fail.
    condition     = var.backend_url == null || !can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^https://([^/:?#]+)", var.backend_url)[0], ""))))
    error_message = "backend_url names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): set the real backend URL in terraform.tfvars, or leave it unset to deploy the backend function."
  }
}

variable "chat_store" {
  description = "Where the backend function keeps the chat: dynamodb (a chat table, the default) or postgres (an existing database: database_url_* and vpc_* below)."
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

variable "jwt_secret_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the HS256 key of user tokens, the backend's JWT_SECRET, in this environment's region; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.jwt_secret_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.jwt_secret_ssm_parameter_name))
    error_message = "jwt_secret_ssm_parameter_name must be a parameter name such as /booking-chat/dev/jwt-secret (not an ARN)."
  }
}

variable "jwt_secret_secrets_manager_arn" {
  description = "Complete ARN of a Secrets Manager secret in this environment's region holding the backend's JWT_SECRET (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null ? (var.jwt_secret_ssm_parameter_name == null) != (var.jwt_secret_secrets_manager_arn == null) : (var.jwt_secret_ssm_parameter_name == null && var.jwt_secret_secrets_manager_arn == null)
    error_message = "The backend function needs exactly one of jwt_secret_ssm_parameter_name and jwt_secret_secrets_manager_arn; with backend_url set neither (that backend holds its own secrets)."
  }

  validation {
    condition     = var.jwt_secret_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.jwt_secret_secrets_manager_arn))
    error_message = "jwt_secret_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.jwt_secret_secrets_manager_arn == null || try(split(":", var.jwt_secret_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the function reads it from there)."
  }
}

variable "service_token_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the marketplace's service credential, the backend's SERVICE_TOKEN, in this environment's region; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.service_token_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.service_token_ssm_parameter_name))
    error_message = "service_token_ssm_parameter_name must be a parameter name such as /booking-chat/dev/service-token (not an ARN)."
  }
}

variable "service_token_secrets_manager_arn" {
  description = "Complete ARN of a Secrets Manager secret in this environment's region holding the backend's SERVICE_TOKEN (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.backend_url == null ? (var.service_token_ssm_parameter_name == null) != (var.service_token_secrets_manager_arn == null) : (var.service_token_ssm_parameter_name == null && var.service_token_secrets_manager_arn == null)
    error_message = "The backend function needs exactly one of service_token_ssm_parameter_name and service_token_secrets_manager_arn; with backend_url set neither (that backend holds its own secrets)."
  }

  validation {
    condition     = var.service_token_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.service_token_secrets_manager_arn))
    error_message = "service_token_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.service_token_secrets_manager_arn == null || try(split(":", var.service_token_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the function reads it from there)."
  }
}

variable "database_url_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the PostgreSQL URL (chat_store = postgres), the backend's DATABASE_URL, in this environment's region; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.database_url_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.database_url_ssm_parameter_name))
    error_message = "database_url_ssm_parameter_name must be a parameter name such as /booking-chat/dev/database-url (not an ARN)."
  }
}

variable "database_url_secrets_manager_arn" {
  description = "Complete ARN of a Secrets Manager secret in this environment's region holding the backend's DATABASE_URL (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.chat_store == "postgres" && var.backend_url == null ? (var.database_url_ssm_parameter_name == null) != (var.database_url_secrets_manager_arn == null) : (var.database_url_ssm_parameter_name == null && var.database_url_secrets_manager_arn == null)
    error_message = "chat_store = postgres needs exactly one of database_url_ssm_parameter_name and database_url_secrets_manager_arn; the DynamoDB store needs neither."
  }

  validation {
    condition     = var.database_url_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.database_url_secrets_manager_arn))
    error_message = "database_url_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.database_url_secrets_manager_arn == null || try(split(":", var.database_url_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the function reads it from there)."
  }
}

variable "vpc_subnet_ids" {
  description = "With chat_store = postgres: subnets the backend function (and the notifier, with notifications) runs in to reach the database. They need a route to DynamoDB, SSM or Secrets Manager and the Management API's public endpoint (a NAT gateway, or VPC endpoints), with notifications to SQS and SES, and with web_push to the push services on the internet (a NAT gateway: they have no VPC endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_subnet_ids) > 0) == (var.chat_store == "postgres" && var.backend_url == null)
    error_message = "vpc_subnet_ids are required with chat_store = postgres (the database is in a VPC), and unused otherwise: leave them empty."
  }

  validation {
    condition     = alltrue([for id in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "vpc_subnet_ids must be subnet ids (subnet-0123456789abcdef0)."
  }
}

variable "vpc_security_group_ids" {
  description = "With chat_store = postgres: security groups of the backend function, allowed out to the database and to HTTPS."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_security_group_ids) > 0) == (var.chat_store == "postgres" && var.backend_url == null)
    error_message = "vpc_security_group_ids are required with chat_store = postgres, and unused otherwise: leave them empty."
  }

  validation {
    condition     = alltrue([for id in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "vpc_security_group_ids must be security group ids (sg-0123456789abcdef0)."
  }
}

variable "cors_allowed_origins" {
  description = "Browser origins allowed to call the HTTP API: full https origins such as https://app.yourcompany.com (the marketplace's web app, the chat widget's pages), or [] when only servers call it. Required with the backend function, and deliberately not committed: set it in terraform.tfvars."
  type        = list(string)
  default     = null

  validation {
    condition     = var.backend_url != null || var.cors_allowed_origins != null
    error_message = "Set cors_allowed_origins in terraform.tfvars: the web origins that call the HTTP API (e.g. [\"https://app.yourcompany.com\"]), or [] when only servers call it."
  }

  validation {
    condition     = var.backend_url == null || length(var.cors_allowed_origins == null ? [] : var.cors_allowed_origins) == 0
    error_message = "cors_allowed_origins configures the HTTP API of the backend function; with backend_url there is none."
  }

  validation {
    condition = alltrue([for origin in(var.cors_allowed_origins == null ? [] : var.cors_allowed_origins) :
    origin == "*" || can(regex("^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$", origin))])
    error_message = "Each CORS origin must be a full https origin in lowercase, https://host or https://host:port, without a path or trailing slash."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: applied, browsers on the real origin are refused.
    condition = !anytrue([for origin in(var.cors_allowed_origins == null ? [] : var.cors_allowed_origins) :
    can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^https://([^/:?#]+)", origin)[0], ""))))])
    error_message = "cors_allowed_origins names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): list the real web origins."
  }
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

  validation {
    # A regional custom domain takes a certificate from the API's own region.
    condition     = var.websocket_certificate_arn == null || try(split(":", var.websocket_certificate_arn)[3] == var.region, false)
    error_message = "websocket_certificate_arn must be an ACM certificate in the environment's region (regional endpoints take a certificate from their own region)."
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

  validation {
    # A regional custom domain takes a certificate from the API's own region.
    condition     = var.http_certificate_arn == null || try(split(":", var.http_certificate_arn)[3] == var.region, false)
    error_message = "http_certificate_arn must be an ACM certificate in the environment's region (regional endpoints take a certificate from their own region)."
  }
}

variable "proxy_secret_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the secret the proxy and the backend share (PROXY_SECRET of both), in this environment's region; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.proxy_secret_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.proxy_secret_ssm_parameter_name))
    error_message = "proxy_secret_ssm_parameter_name must be a parameter name such as /booking-chat/dev/proxy-secret (not an ARN)."
  }
}

variable "proxy_secret_secrets_manager_arn" {
  description = "Complete ARN of a Secrets Manager secret in this environment's region holding the proxy secret (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = (var.proxy_secret_secrets_manager_arn == null) != (var.proxy_secret_ssm_parameter_name == null)
    error_message = "Set exactly one of proxy_secret_ssm_parameter_name and proxy_secret_secrets_manager_arn."
  }

  validation {
    condition     = var.proxy_secret_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.proxy_secret_secrets_manager_arn))
    error_message = "proxy_secret_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.proxy_secret_secrets_manager_arn == null || try(split(":", var.proxy_secret_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the function reads it from there)."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key encrypting the secrets, if any (both functions get kms:Decrypt on it); null for the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM does not match aliases."
  }
}

variable "lambda_architecture" {
  description = "arm64 or x86_64: `make plan`/`make apply` pass ARCH here, with the zip built for it."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_package_path" {
  description = "The proxy's zip `make package` builds; null for ../../target/lambda/<lambda_architecture>/chat-proxy/bootstrap.zip (relative to this directory)."
  type        = string
  default     = null
}

variable "backend_package_path" {
  description = "The backend function's zip `make package` builds; null for ../../target/lambda/<lambda_architecture>/chat-backend-lambda/bootstrap.zip (relative to this directory). Unused with backend_url."
  type        = string
  default     = null
}

variable "notifier_package_path" {
  description = "The notifier function's zip `make package` builds; null for ../../target/lambda/<lambda_architecture>/chat-notifier/bootstrap.zip (relative to this directory). Unused without notifications."
  type        = string
  default     = null
}

variable "media_package_path" {
  description = "The media processor's zip `make package` builds; null for ../../target/lambda/<lambda_architecture>/chat-media/bootstrap.zip (relative to this directory). Unused without attachments."
  type        = string
  default     = null
}

variable "lambda_memory_size" {
  description = "Memory of the proxy function in MB."
  type        = number
  default     = 256
}

variable "backend_memory_size" {
  description = "Memory of the backend function in MB."
  type        = number
  default     = 256
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the proxy function: null (unreserved) or at least 1, leaving the account at least 100 unreserved (make apply checks the account's quota first)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null || try(var.lambda_reserved_concurrency >= 1 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency, false)
    error_message = "lambda_reserved_concurrency must be null (unreserved) or a whole number of at least 1: 0 would throttle every invocation."
  }
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
  description = "API Gateway execution logs: OFF, ERROR or INFO. Anything but OFF needs API Gateway's CloudWatch role in the region (envs/account/<region>)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "access_logging" {
  description = "JSON access logs of the stage. Like execution logging, needs API Gateway's CloudWatch role in the region (envs/account/<region>)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of every log group (both functions, the stages' access and execution logs)."
  type        = number
}

variable "log_sample_rate" {
  description = "One in how many invocations' routine log lines the proxy and the backend write; every warning and error is written (docs/deploying.md, Logs). 1 writes every line."
  type        = number
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 1 && var.log_sample_rate <= 1000 && floor(var.log_sample_rate) == var.log_sample_rate
    error_message = "log_sample_rate must be a whole number from 1 (every line) to 1000."
  }
}

variable "lambda_system_log_level" {
  description = "Which of Lambda's own log lines the functions' log groups receive: null keeps the text format with START, END and REPORT lines; DEBUG, INFO or WARN turn on Lambda's JSON log format from that level (WARN: timeouts and crashes only)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_system_log_level == null || contains(["DEBUG", "INFO", "WARN"], coalesce(var.lambda_system_log_level, "-"))
    error_message = "lambda_system_log_level must be null (the text format), DEBUG, INFO or WARN."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting every log group (its key policy must allow CloudWatch Logs); null for CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "table_deletion_protection" {
  description = "Deletion protection of the connections table and the chat table."
  type        = bool
}

variable "alarm_topic_arn" {
  description = "SNS topic in this environment's region that every alarm notifies. Required outside dev (alarms nobody receives protect nothing) and deliberately not committed: set it in terraform.tfvars or TF_VAR_alarm_topic_arn. null (dev only) for alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn != null || var.environment == "dev"
    error_message = "Set alarm_topic_arn to the SNS topic that tells someone (arn:aws:sns:REGION:ACCOUNT:NAME): outside dev, alarms without actions tell nobody. In terraform.tfvars (not committed) or TF_VAR_alarm_topic_arn."
  }

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:[a-zA-Z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME (not its name)."
  }

  validation {
    # CloudWatch alarms notify topics of their own region only.
    condition     = var.alarm_topic_arn == null || try(split(":", var.alarm_topic_arn)[3] == var.region, false)
    error_message = "The alarm topic must be in the environment's region: CloudWatch alarms notify topics of their own region only."
  }
}

variable "chat_events" {
  description = "Publish the chat's events to the environment's EventBridge bus (booking-chat-<environment>, outputs event_bus_name and event_bus_arn) for the app's own rules (docs/deploying.md, Chat events for the app). Off: no bus, and the backend publishes nothing."
  type        = bool
  default     = true
}

variable "chat_events_archive_retention_days" {
  description = "Days an archive of the chat events' bus keeps every event, for replay; null (the default) for none. Archived events hold messages' text, deleted messages' too, until they expire."
  type        = number
  default     = null

  validation {
    # 0 is EventBridge's "forever": chat text, deleted messages' included, would never expire.
    condition     = var.chat_events_archive_retention_days == null || try(var.chat_events_archive_retention_days >= 1 && floor(var.chat_events_archive_retention_days) == var.chat_events_archive_retention_days, false)
    error_message = "chat_events_archive_retention_days must be null (no archive) or a whole number of days of at least 1: 0 would keep chat text forever."
  }

  validation {
    condition     = var.chat_events_archive_retention_days == null || var.chat_events
    error_message = "chat_events_archive_retention_days archives the chat events' bus, and with chat_events = false there is none."
  }
}

variable "notifications" {
  description = "Email members about chat messages they have not read (docs/deploying.md, Email notifications); null (the default) for none. email_from: the From header, \"Booking chat <chat@yourcompany.com>\" or an address; ses_identity: the SES identity (the domain, or the address) verified for sending in this environment's region; booking_url: the marketplace's page of a booking's chat, with {booking_id}; optional delay_seconds (180, at most 900), min_interval_seconds (900), configuration_set (an SES configuration set) and maximum_concurrency (2). Needs chat_events, the backend function and notify_link_secret_*."
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
    condition     = var.notifications == null || var.chat_events
    error_message = "notifications read message.created from the chat events' bus: they need chat_events = true."
  }

  validation {
    condition     = var.notifications == null || var.backend_url == null
    error_message = "notifications need the backend function (its chat store and HTTP API): with backend_url the backend runs elsewhere."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: every email would link to nowhere.
    condition     = var.notifications == null || !can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^https://([^/:?#]+)", var.notifications.booking_url)[0], ""))))
    error_message = "notifications.booking_url names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): set the marketplace's real URL."
  }
}

variable "notify_link_secret_ssm_parameter_name" {
  description = "With notifications: name of the SSM SecureString parameter holding the HMAC key of the emails' unsubscribe links (NOTIFY_LINK_SECRET of the notifier and of the backend function), in this environment's region; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.notify_link_secret_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.notify_link_secret_ssm_parameter_name))
    error_message = "notify_link_secret_ssm_parameter_name must be a parameter name such as /booking-chat/dev/notify-link-secret (not an ARN)."
  }
}

variable "notify_link_secret_secrets_manager_arn" {
  description = "With notifications: complete ARN of a Secrets Manager secret in this environment's region holding NOTIFY_LINK_SECRET (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.notifications != null ? (var.notify_link_secret_ssm_parameter_name == null) != (var.notify_link_secret_secrets_manager_arn == null) : (var.notify_link_secret_ssm_parameter_name == null && var.notify_link_secret_secrets_manager_arn == null)
    error_message = "notifications need exactly one of notify_link_secret_ssm_parameter_name and notify_link_secret_secrets_manager_arn; without notifications set neither."
  }

  validation {
    condition     = var.notify_link_secret_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.notify_link_secret_secrets_manager_arn))
    error_message = "notify_link_secret_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.notify_link_secret_secrets_manager_arn == null || try(split(":", var.notify_link_secret_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the functions read it from there)."
  }
}

variable "web_push" {
  description = "With notifications: Web Push to the browsers members subscribed, beside the emails; null (the default) for none. public_key: the VAPID public key, 87 base64url characters starting with B (npx web-push generate-vapid-keys prints the pair; its private key goes in vapid_private_key_*); subject: mailto:you@yourcompany.com or an https:// URL, whom the push services contact; optional endpoint_hosts (the push services' host suffixes allowed; null for the browsers' own: FCM, Mozilla, Apple, Windows), ttl_seconds (86400, at most 2419200) and failed_alarm_threshold (20 failed pushes in 15 minutes). With PostgreSQL the notifier runs in vpc_subnet_ids, which then need a NAT route to the internet."
  type = object({
    public_key             = string
    subject                = string
    endpoint_hosts         = optional(list(string))
    ttl_seconds            = optional(number, 86400)
    failed_alarm_threshold = optional(number, 20)
  })
  default = null

  validation {
    condition     = var.web_push == null || var.notifications != null
    error_message = "web_push is sent by the notifier: it needs notifications."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: push services would have nobody to contact.
    condition     = var.web_push == null || !can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^(?:mailto:[^@]+@|https://)([^/:?#>]+)", var.web_push.subject)[0], ""))))
    error_message = "web_push.subject names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): set the address or page where the push services can reach you."
  }
}

variable "vapid_private_key_ssm_parameter_name" {
  description = "With web_push: name of the SSM SecureString parameter holding the VAPID private key (base64url of the 32-byte P-256 private scalar, as npx web-push generate-vapid-keys prints it), the notifier's VAPID_PRIVATE_KEY, in this environment's region; created outside Terraform so the key never enters the state."
  type        = string
  default     = null

  validation {
    condition     = var.vapid_private_key_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.vapid_private_key_ssm_parameter_name))
    error_message = "vapid_private_key_ssm_parameter_name must be a parameter name such as /booking-chat/dev/vapid-private-key (not an ARN)."
  }
}

variable "vapid_private_key_secrets_manager_arn" {
  description = "With web_push: complete ARN of a Secrets Manager secret in this environment's region holding VAPID_PRIVATE_KEY (instead of the SSM parameter)."
  type        = string
  default     = null

  validation {
    condition     = var.web_push != null ? (var.vapid_private_key_ssm_parameter_name == null) != (var.vapid_private_key_secrets_manager_arn == null) : (var.vapid_private_key_ssm_parameter_name == null && var.vapid_private_key_secrets_manager_arn == null)
    error_message = "web_push needs exactly one of vapid_private_key_ssm_parameter_name and vapid_private_key_secrets_manager_arn; without web_push set neither."
  }

  validation {
    condition     = var.vapid_private_key_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.vapid_private_key_secrets_manager_arn))
    error_message = "vapid_private_key_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }

  validation {
    condition     = var.vapid_private_key_secrets_manager_arn == null || try(split(":", var.vapid_private_key_secrets_manager_arn)[3] == var.region, false)
    error_message = "The Secrets Manager secret must be in the environment's region (the notifier reads it from there)."
  }
}

variable "chat_rules" {
  description = "The backend function's chat rules (docs/deploying.md, Chat rules); {} (the default) for the code's own. contact_mask_statuses: the booking statuses during which contact details are hidden from messages (requested by default; [] for never); contact_mask_kinds: which of phone, email, link and handle (all four by default); contact_phone_regions: the countries, ISO 3166 alpha-2 in upper case, whose national phone numbers are recognised (US, GB, FR, DE, ES, IT, NL by default); read_only_after_seconds: how long a cancelled or completed booking's chat stays writable (604800, 7 days; 0 to 31536000). An attribute left out keeps its default, which module booking-chat sets and checks."
  # No defaults here: module booking-chat's type fills in each attribute left null, so they live in one place.
  type = object({
    contact_mask_statuses   = optional(list(string))
    contact_mask_kinds      = optional(list(string))
    contact_phone_regions   = optional(list(string))
    read_only_after_seconds = optional(number)
  })
  default  = {}
  nullable = false
}

variable "attachments" {
  description = "Photos and PDFs attached to messages (docs/deploying.md, Attachments): the environment's private bucket, the media processor on its upload events, the backend signing uploads and downloads; null for none, {} for the defaults. Optional: max_bytes (10485760, at most 50 MiB), types (image/jpeg, image/png, image/webp, application/pdf), per_message (10), upload_ttl_seconds and download_ttl_seconds (300, 60 to 3600), upload_days (1) and unreferenced_days (2), after which the lifecycle deletes an upload never processed and a file no message took, allowed_origins (null: cors_allowed_origins) the browser origins that upload to and download from the bucket, kms_key_arn (null: SSE-S3), memory_size (1024), maximum_concurrency (5, 2 to 1000) and reserved_concurrency (null) of the processor. Needs the backend function; outside dev, browser origins."
  # No defaults here: module booking-chat's type fills in each attribute left null, so they live in one place.
  type = object({
    max_bytes            = optional(number)
    types                = optional(list(string))
    per_message          = optional(number)
    upload_ttl_seconds   = optional(number)
    download_ttl_seconds = optional(number)
    upload_days          = optional(number)
    unreferenced_days    = optional(number)
    allowed_origins      = optional(list(string))
    kms_key_arn          = optional(string)
    memory_size          = optional(number)
    maximum_concurrency  = optional(number)
    reserved_concurrency = optional(number)
  })
  default = null

  validation {
    # The backend function signs uploads and downloads with its role, and the processor reports to it.
    condition     = var.attachments == null || var.backend_url == null
    error_message = "attachments need the backend function: with backend_url the backend runs elsewhere (remove attachments, or backend_url)."
  }

  validation {
    # Browsers upload with a form POSTed to the bucket: without an origin allowed there (CORS), they cannot.
    condition = (var.attachments == null || var.environment == "dev" || length(
      try(var.attachments.allowed_origins, null) != null ? var.attachments.allowed_origins : (var.cors_allowed_origins == null ? [] : var.cors_allowed_origins)
    ) > 0)
    error_message = "attachments need the browser origins that upload to the bucket outside dev: set cors_allowed_origins (or attachments.allowed_origins), or remove attachments."
  }

  validation {
    # Reserved names (RFC 2606 and 6761) are placeholders: applied, browsers on the real origin are refused.
    condition = !anytrue([for origin in(try(var.attachments.allowed_origins, null) == null ? [] : var.attachments.allowed_origins) :
    can(regex("(^|\\.)(example\\.(com|net|org)|example|invalid|test|localhost)$", lower(try(regex("^https://([^/:?#]+)", origin)[0], ""))))])
    error_message = "attachments.allowed_origins names a placeholder host (example.com/.net/.org, .example, .invalid, .test, localhost): list the real web origins."
  }
}

variable "message_retention_days" {
  description = "How many days the chat of a booking that ended is kept (docs/deploying.md, Retention): the retention job, run every hour by EventBridge Scheduler, deletes the messages and files of bookings that ended longer ago; null for none (the chat is kept as long as the table). A whole number from 1 to 3650, longer than chat_rules.read_only_after_seconds (module booking-chat checks both). Needs the backend function."
  type        = number
  default     = null

  validation {
    # The job is the backend function's package against its store: a backend elsewhere runs its own.
    condition     = var.message_retention_days == null || var.backend_url == null
    error_message = "message_retention_days runs the backend function's retention job: with backend_url the backend and its store are elsewhere (remove message_retention_days, or backend_url)."
  }
}

variable "detailed_route_metrics" {
  description = "Per-route CloudWatch metrics of both APIs' stages, billed as custom metrics (up to 120 per environment: 18 for the WebSocket API, 102 for the HTTP API). Off, the stage-wide metrics the alarms read remain, and the access logs hold each request's route, status and latency."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
