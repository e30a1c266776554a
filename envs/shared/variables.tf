variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "backend_url" {
  description = "Base URL of the chat backend (its proxy routes must be reachable from Lambda)."
  type        = string
}

variable "proxy_secret_ssm_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the proxy secret; created outside Terraform so the secret never enters the state."
  type        = string
  default     = null
}

variable "proxy_secret_secrets_manager_arn" {
  description = "ARN of a Secrets Manager secret holding the proxy secret (instead of the SSM parameter)."
  type        = string
  default     = null
}

variable "lambda_package_path" {
  description = "The zip `make package` builds; relative to this directory."
  type        = string
  default     = "../../target/lambda/arm64/chat-proxy/bootstrap.zip"
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
  description = "Reserved concurrency of the proxy function; null for none."
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
  description = "API Gateway execution logs: OFF, ERROR or INFO."
  type        = string
  default     = "ERROR"
}

variable "manage_account_logging_role" {
  description = "Create the account-wide role API Gateway needs for execution logs (once per account and region)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the function's and the stage's log groups."
  type        = number
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
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
