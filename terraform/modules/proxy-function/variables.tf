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
  description = "Reserved concurrent executions (caps the function and protects the backend); null for none."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0, false)
    error_message = "reserved_concurrency must be null or a non-negative number."
  }
}

variable "backend_url" {
  description = "Base URL of the chat backend the proxy calls, e.g. https://chat.internal.example.com."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+", var.backend_url))
    error_message = "backend_url must be an http(s) URL."
  }
}

variable "backend_timeout_ms" {
  description = "How long the proxy waits for the backend before answering BACKEND_UNAVAILABLE."
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
}

variable "proxy_secret_secrets_manager_arn" {
  description = "ARN of the Secrets Manager secret holding the secret shared with the backend (set this or the SSM parameter name)."
  type        = string
  default     = null

  validation {
    condition     = (var.proxy_secret_secrets_manager_arn == null) != (var.proxy_secret_ssm_parameter_name == null)
    error_message = "Set exactly one of proxy_secret_ssm_parameter_name and proxy_secret_secrets_manager_arn."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the secret, if any (the function gets kms:Decrypt on it)."
  type        = string
  default     = null
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
  description = "RUST_LOG of the function."
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
  description = "KMS key encrypting the log group; null uses CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the fan-out metrics the function emits (embedded metric format)."
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
