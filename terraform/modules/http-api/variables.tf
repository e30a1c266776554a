variable "name" {
  description = "Name of the HTTP API (and prefix of its log group)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.name))
    error_message = "name must be 1 to 128 letters, digits, '-' or '_'."
  }
}

variable "lambda_function_name" {
  description = "The backend function behind every route (the backend, module lambda-function as booking-chat calls it)."
  type        = string
}

variable "lambda_invoke_arn" {
  description = "Invoke ARN of the backend function's alias, for the integration."
  type        = string
}

variable "lambda_qualifier" {
  description = "Alias the invoke ARN names, for the invoke permission; null when it names the function itself."
  type        = string
  default     = null
}

variable "cors_allowed_origins" {
  description = "Browser origins allowed to call the API (https://host[:port], no path), e.g. the marketplace's web app; empty for no CORS (server-to-server callers only). '*' only without credentials."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([for origin in var.cors_allowed_origins :
    origin == "*" || can(regex("^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$", origin))])
    error_message = "Each CORS origin must be a full https origin in lowercase, https://host or https://host:port, without a path or trailing slash (browsers send exactly that in Origin)."
  }

  validation {
    condition     = !contains(var.cors_allowed_origins, "*") || length(var.cors_allowed_origins) == 1
    error_message = "'*' already allows every origin: list it alone or not at all."
  }
}

variable "cors_allow_credentials" {
  description = "Access-Control-Allow-Credentials: only for browsers that send cookies; bearer tokens in Authorization do not need it."
  type        = bool
  default     = false

  validation {
    condition     = !(var.cors_allow_credentials && contains(var.cors_allowed_origins, "*"))
    error_message = "cors_allow_credentials cannot be combined with the origin '*': browsers refuse credentials for a wildcard origin; list the origins."
  }
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a preflight answer."
  type        = number
  default     = 600

  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be between 0 and 86400."
  }
}

variable "throttling_burst_limit" {
  description = "Stage burst limit (requests); protects the function and the store."
  type        = number

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000
    error_message = "throttling_burst_limit must be between 1 and 5000."
  }
}

variable "throttling_rate_limit" {
  description = "Stage steady-state limit (requests per second)."
  type        = number

  validation {
    condition     = var.throttling_rate_limit >= 1 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be between 1 and 10000."
  }
}

variable "detailed_route_metrics" {
  description = "Per-route metrics of the stage (its seventeen routes: up to 102 custom metrics: 4xx, 5xx, Count, Latency, IntegrationLatency and DataProcessed each), which CloudWatch bills as custom metrics. Off, the stage-wide metrics (which the environment's alarms read) remain, and the access logs hold each request's route, status and latency."
  type        = bool
  default     = false
}

variable "access_logging" {
  description = "JSON access logs of the stage to their own log group."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the access log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the access log group (its key policy must allow the CloudWatch Logs service); null uses CloudWatch's default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
