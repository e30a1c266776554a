variable "name" {
  description = "Name of the WebSocket API."
  type        = string
}

variable "stage_name" {
  description = "Stage name: part of the URL (wss://.../{stage}) and of the Management API endpoint."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.stage_name)) && var.stage_name != "$default"
    error_message = "stage_name must be 1 to 64 letters, digits, '-' or '_'."
  }
}

variable "lambda_function_name" {
  description = "The proxy function every route and the $connect authorizer invoke (the proxy, module lambda-function as booking-chat calls it)."
  type        = string
}

variable "lambda_invoke_arn" {
  description = "Invoke ARN of the proxy function's alias (or of the function), for the integration and the $connect authorizer alike."
  type        = string
}

variable "lambda_qualifier" {
  description = "Alias (or version) the invoke ARN names, for the invoke permissions (stage and authorizer); null when it names the function itself."
  type        = string
  default     = null
}

variable "throttling_burst_limit" {
  description = "Stage burst limit (requests); protects the function and the backend."
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

variable "execution_logging_level" {
  description = "API Gateway execution logs: OFF, ERROR or INFO. Anything but OFF needs API Gateway's CloudWatch role in the account settings of the region (envs/account/<region>)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "detailed_route_metrics" {
  description = "Per-route metrics of the stage (its three routes ($connect, $disconnect, $default): up to 18 custom metrics, ConnectCount, MessageCount, IntegrationError, ClientError, ExecutionError and IntegrationLatency each), which CloudWatch bills as custom metrics. Off, the stage-wide metrics (which the environment's alarms read) remain, and the access logs hold each request's route, status and latency."
  type        = bool
  default     = false
}

variable "access_logging" {
  description = "JSON access logs of the stage to their own log group. Needs API Gateway's CloudWatch role in the account settings of the region (envs/account/<region>), like execution logging."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the access and execution log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the access and execution log groups (its key policy must allow the CloudWatch Logs service); null uses CloudWatch's default encryption."
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
