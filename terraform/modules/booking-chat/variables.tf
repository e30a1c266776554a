variable "environment" {
  description = "Environment name: part of every resource name, and the API stage."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2 to 16 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "backend_url" {
  description = "Base URL of the chat backend the proxy calls."
  type        = string
}

variable "proxy_secret_ssm_parameter_name" {
  description = "SSM SecureString parameter holding the proxy secret (or use the Secrets Manager ARN)."
  type        = string
  default     = null
}

variable "proxy_secret_secrets_manager_arn" {
  description = "Complete ARN of the Secrets Manager secret holding the proxy secret (or use the SSM parameter)."
  type        = string
  default     = null
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key encrypting the proxy secret, if any (the function gets kms:Decrypt on it)."
  type        = string
  default     = null
}

variable "lambda_package_path" {
  description = "The zip `make package` builds."
  type        = string
}

variable "lambda_architecture" {
  description = "arm64 or x86_64, matching the package."
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
  description = "Stage burst limit."
  type        = number
}

variable "throttling_rate_limit" {
  description = "Stage steady-state requests per second."
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
  description = "Retention of the function's and the stage's log groups."
  type        = number
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the function's and the stage's log groups; null for CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "table_deletion_protection" {
  description = "Deletion protection of the connections table."
  type        = bool
}

variable "alarm_topic_arn" {
  description = "SNS topic for every alarm; null for alarms without actions."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource (the provider's default tags come on top)."
  type        = map(string)
  default     = {}
}
