variable "name" {
  description = "Name of the Lambda function (and prefix of its role, log group and alarms)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,56}$", var.name))
    error_message = "Use 1 to 56 letters, digits, '-' or '_' (the role name adds a suffix)."
  }
}

variable "package_path" {
  description = "Path of the zip `make package` builds (target/lambda/arm64/chat-proxy/bootstrap.zip)."
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
  description = "Memory in MB; CPU grows with it. The proxy is I/O-bound: 256 is plenty."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Function timeout; API Gateway gives up on the integration after 29 s anyway."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 29
    error_message = "timeout_seconds must be between 3 and API Gateway's 29 s integration timeout."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps the function and guarantees it capacity); null leaves it unreserved. Lambda refuses a reservation that leaves the account fewer than 100 unreserved (scripts/preflight.py checks before apply)."
  type        = number
  default     = null

  validation {
    # 0 is accepted by Lambda and throttles every invocation: a silent outage, never a setting.
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null (unreserved) or a whole number of at least 1: 0 would throttle every invocation."
  }
}

variable "backend_url" {
  description = "Base URL of a chat backend that runs elsewhere, called over HTTPS (its proxy routes must be reachable from Lambda); null when the proxy invokes the backend function (backend_function_arn)."
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

variable "backend_function_arn" {
  description = "ARN of the backend function's alias (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS), which the proxy invokes directly with IAM (BACKEND_FUNCTION); null when it calls backend_url."
  type        = string
  default     = null

  validation {
    condition     = (var.backend_function_arn == null) != (var.backend_url == null)
    error_message = "Set exactly one of backend_url (a backend elsewhere) and backend_function_arn (the backend function)."
  }

  validation {
    # Qualified: the proxy may invoke that alias and nothing else of the function ($LATEST included).
    condition     = var.backend_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:function:[a-zA-Z0-9_-]+:[a-zA-Z][a-zA-Z0-9_-]*$", var.backend_function_arn))
    error_message = "backend_function_arn must be the ARN of the backend function's alias, arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS (not the function's unqualified ARN, nor a version)."
  }
}

variable "backend_timeout_ms" {
  description = "How long the proxy waits for the backend (the HTTP call or the function's invocation) before answering BACKEND_UNAVAILABLE."
  type        = number
  default     = 10000

  validation {
    condition     = var.backend_timeout_ms >= 100 && var.backend_timeout_ms < 29000
    error_message = "backend_timeout_ms must be at least 100 and below API Gateway's 29 s."
  }
}

variable "proxy_secret_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the secret shared with the backend (set this or the Secrets Manager ARN)."
  type        = string
  default     = null

  validation {
    condition     = var.proxy_secret_ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", var.proxy_secret_ssm_parameter_name))
    error_message = "proxy_secret_ssm_parameter_name must be a parameter name such as /booking-chat/dev/proxy-secret (not an ARN)."
  }
}

variable "proxy_secret_secrets_manager_arn" {
  description = "ARN of the Secrets Manager secret holding the secret shared with the backend (set this or the SSM parameter name)."
  type        = string
  default     = null

  validation {
    condition     = (var.proxy_secret_secrets_manager_arn == null) != (var.proxy_secret_ssm_parameter_name == null)
    error_message = "Set exactly one of proxy_secret_ssm_parameter_name and proxy_secret_secrets_manager_arn."
  }

  validation {
    # The IAM policy needs the complete ARN: a name makes the policy invalid, and a partial ARN (without the
    # six characters Secrets Manager appends) is accepted by IAM but matches no secret, so reads are denied.
    condition     = var.proxy_secret_secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", var.proxy_secret_secrets_manager_arn))
    error_message = "proxy_secret_secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the secret, if any (the function gets kms:Decrypt on it)."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM does not match aliases."
  }
}

variable "connections_table_name" {
  description = "The connections table (module connections-table)."
  type        = string
}

variable "connections_table_arn" {
  description = "ARN of the connections table, for the function's policy."
  type        = string
}

variable "api_execution_arn" {
  description = "Execution ARN of the WebSocket API, to scope execute-api:ManageConnections."
  type        = string
}

variable "stage_name" {
  description = "The API stage whose @connections the function may post to and delete."
  type        = string
}

variable "max_frame_bytes" {
  description = "Largest frame forwarded to the backend (API Gateway's frame limit is 32 KB)."
  type        = number
  default     = 32768
}

variable "fanout_concurrency" {
  description = "PostToConnection calls in flight per fan-out."
  type        = number
  default     = 32

  validation {
    condition     = var.fanout_concurrency >= 1 && var.fanout_concurrency <= 256
    error_message = "fanout_concurrency must be between 1 and 256."
  }
}

variable "tracing" {
  description = "Active X-Ray tracing of invocations (latency of each call, cold starts)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "RUST_LOG of the function (its JSON log lines; the embedded-metric-format lines are printed whatever the level)."
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
  description = "Alias API Gateway invokes; every apply publishes a version and points the alias at it (roll back by pointing it at an earlier one)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,127}$", var.alias_name))
    error_message = "alias_name must start with a letter: letters, digits, '-' or '_', at most 128."
  }
}

variable "duration_alarm_threshold_ms" {
  description = "p99 duration (ms) above which the duration alarm fires: close to API Gateway's 29 s integration timeout, messages start failing."
  type        = number
  default     = 25000

  validation {
    condition     = var.duration_alarm_threshold_ms >= 1000 && var.duration_alarm_threshold_ms < 29000
    error_message = "duration_alarm_threshold_ms must be at least 1000 and below API Gateway's 29000."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the function emits in embedded metric format (FanoutFailed, HandshakesUnauthorized, ...), the function's METRICS_NAMESPACE."
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
