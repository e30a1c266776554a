variable "name" {
  description = "Name of the Lambda function (and prefix of its role, log group and alarms)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,56}$", var.name))
    error_message = "Use 1 to 56 letters, digits, '-' or '_' (the role name adds a suffix)."
  }
}

variable "package_path" {
  description = "Path of the zip `make package` builds (target/lambda/arm64/chat-backend-lambda/bootstrap.zip)."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the package: arm64 (Graviton, cheaper) or x86_64 (`make package ARCH=x86_64`)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB; CPU grows with it."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Function timeout. The proxy gives up after its backend timeout and API Gateway's HTTP API after 30 s; keep it below both."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 29
    error_message = "timeout_seconds must be between 3 and 29 (the WebSocket path gives up at 29 s, the HTTP API at 30 s)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps the function, e.g. to bound PostgreSQL connections, and guarantees it capacity); null leaves it unreserved. Lambda refuses a reservation that leaves the account fewer than 100 unreserved."
  type        = number
  default     = null

  validation {
    # 0 is accepted by Lambda and throttles every invocation: a silent outage, never a setting.
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null (unreserved) or a whole number of at least 1: 0 would throttle every invocation."
  }
}

variable "app_env" {
  description = "APP_ENV of the backend: the environment's name. Never `local`, which turns on the demo page, development tokens and built-in secrets."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.app_env)) && var.app_env != "local"
    error_message = "app_env must be the environment's name (2 to 16 lowercase letters, digits or '-'), and never local."
  }
}

variable "chat_store" {
  description = "Where the backend keeps the chat: dynamodb (the chat table) or postgres (an existing database, DATABASE_URL secret, VPC)."
  type        = string
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "postgres"], var.chat_store)
    error_message = "chat_store must be dynamodb or postgres."
  }
}

variable "chat_table_name" {
  description = "The chat table (module chat-table), the function's CHAT_TABLE; only with chat_store = dynamodb."
  type        = string
  default     = null

  validation {
    condition     = (var.chat_table_name != null) == (var.chat_store == "dynamodb")
    error_message = "chat_table_name is required with chat_store = dynamodb, and must be null with postgres."
  }
}

variable "chat_table_arn" {
  description = "ARN of the chat table, for the function's policy; only with chat_store = dynamodb."
  type        = string
  default     = null

  validation {
    condition     = (var.chat_table_arn != null) == (var.chat_store == "dynamodb")
    error_message = "chat_table_arn is required with chat_store = dynamodb, and must be null with postgres."
  }
}

variable "chat_table_index_arns" {
  description = "ARNs of the chat table's indexes the function may Query (module chat-table's gsi1_arn)."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.chat_table_index_arns) > 0) == (var.chat_store == "dynamodb")
    error_message = "chat_table_index_arns is required with chat_store = dynamodb, and must be empty with postgres."
  }
}

variable "secrets" {
  description = "The backend's secrets by the name it reads them under (JWT_SECRET, PROXY_SECRET, SERVICE_TOKEN, and DATABASE_URL with postgres), each an SSM SecureString parameter name or a Secrets Manager secret's complete ARN. The function gets <NAME>_SSM_PARAMETER or <NAME>_SECRETS_MANAGER_ID."
  type = map(object({
    ssm_parameter_name  = optional(string)
    secrets_manager_arn = optional(string)
  }))

  validation {
    condition     = length(setsubtract(keys(var.secrets), ["JWT_SECRET", "PROXY_SECRET", "SERVICE_TOKEN", "DATABASE_URL"])) == 0
    error_message = "secrets may name only JWT_SECRET, PROXY_SECRET, SERVICE_TOKEN and DATABASE_URL."
  }

  validation {
    condition     = length(setsubtract(["JWT_SECRET", "PROXY_SECRET", "SERVICE_TOKEN"], keys(var.secrets))) == 0
    error_message = "secrets must name JWT_SECRET, PROXY_SECRET and SERVICE_TOKEN: outside APP_ENV=local the backend refuses to start without them."
  }

  validation {
    condition     = contains(keys(var.secrets), "DATABASE_URL") == (var.chat_store == "postgres")
    error_message = "DATABASE_URL is required with chat_store = postgres, and must not be set with dynamodb."
  }

  validation {
    condition     = alltrue([for secret in values(var.secrets) : (secret.ssm_parameter_name == null) != (secret.secrets_manager_arn == null)])
    error_message = "Each secret is exactly one of ssm_parameter_name and secrets_manager_arn."
  }

  validation {
    condition = alltrue([for secret in values(var.secrets) :
    secret.ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", secret.ssm_parameter_name))])
    error_message = "An ssm_parameter_name must be a parameter name such as /booking-chat/dev/jwt-secret (not an ARN)."
  }

  validation {
    # The IAM policy needs the complete ARN: a name makes the policy invalid, and a partial ARN (without the
    # six characters Secrets Manager appends) is accepted by IAM but matches no secret.
    condition = alltrue([for secret in values(var.secrets) :
    secret.secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", secret.secrets_manager_arn))])
    error_message = "A secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX, not a name or a partial ARN."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the secrets, if any (the function gets kms:Decrypt on it)."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM does not match aliases."
  }
}

variable "identity_provider" {
  description = "An identity provider (Cognito, Auth0) whose RS256/ES256 tokens the backend accepts beside the HS256 ones: the URL of its JWKS (https://), the issuer of its tokens and this application's audience, the function's JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE; null for HS256 tokens only. In a VPC, the subnets need a route to the provider."
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

variable "database_max_connections" {
  description = "DATABASE_MAX_CONNECTIONS with postgres: the pool of each execution environment, which serves one request at a time (the database sees this times the function's concurrency)."
  type        = number
  default     = 2

  validation {
    condition     = var.database_max_connections >= 1 && var.database_max_connections <= 10
    error_message = "database_max_connections must be between 1 and 10."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets the function runs in, to reach PostgreSQL; empty for no VPC. They need a route to DynamoDB, SSM or Secrets Manager and the Management API (NAT, or VPC endpoints)."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function's network interfaces (allowed out to PostgreSQL and HTTPS); with vpc_subnet_ids."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_security_group_ids) > 0) == (length(var.vpc_subnet_ids) > 0)
    error_message = "vpc_subnet_ids and vpc_security_group_ids go together: both set (a VPC function) or both empty."
  }
}

variable "connections_table_name" {
  description = "The connections table (module connections-table), the function's CONNECTIONS_TABLE for status pushes."
  type        = string
}

variable "connections_table_arn" {
  description = "ARN of the connections table: Query (a booking's connections) and DeleteItem (Gone cleanup)."
  type        = string
}

variable "api_execution_arn" {
  description = "Execution ARN of the WebSocket API, to scope execute-api:ManageConnections."
  type        = string
}

variable "stage_name" {
  description = "The WebSocket API stage whose @connections the function may post to."
  type        = string
}

variable "management_endpoint" {
  description = "The function's MANAGEMENT_ENDPOINT: https://{api_id}.execute-api.{region}.amazonaws.com/{stage}, never a custom domain."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9]+\\.execute-api\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-zA-Z0-9_-]+$", var.management_endpoint))
    error_message = "management_endpoint must be https://{api_id}.execute-api.{region}.amazonaws.com/{stage} (custom domains do not serve @connections)."
  }
}

variable "aws_timeout_ms" {
  description = "AWS_TIMEOUT_MS: the budget of one AWS call (DynamoDB, the Management API, a secret), retries included."
  type        = number
  default     = 3000

  validation {
    condition     = var.aws_timeout_ms >= 100 && var.aws_timeout_ms <= 29000
    error_message = "aws_timeout_ms must be between 100 and 29000."
  }
}

variable "tracing" {
  description = "Active X-Ray tracing of invocations."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "RUST_LOG of the function (JSON lines, LOG_FORMAT=json)."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the log group (its key policy must allow the CloudWatch Logs service); null uses CloudWatch's default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "alias_name" {
  description = "Alias the HTTP API and the proxy invoke; every apply publishes a version and points the alias at it."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,127}$", var.alias_name))
    error_message = "alias_name must start with a letter: letters, digits, '-' or '_', at most 128."
  }
}

variable "duration_alarm_threshold_ms" {
  description = "p99 duration (ms) above which the duration alarm fires; null for 80 % of the timeout."
  type        = number
  default     = null

  validation {
    condition     = var.duration_alarm_threshold_ms == null || try(var.duration_alarm_threshold_ms >= 100 && var.duration_alarm_threshold_ms < var.timeout_seconds * 1000, false)
    error_message = "duration_alarm_threshold_ms must be at least 100 and below the function's timeout."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the function emits in embedded metric format (its fan-out for status pushes), METRICS_NAMESPACE."
  type        = string
  default     = "BookingChat"
}

variable "alarm_topic_arn" {
  description = "SNS topic notified by the function's alarms; null creates them without actions."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
