variable "name" {
  description = "Name of the DynamoDB table of WebSocket connection records."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "A DynamoDB table name is 3 to 255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the table (on in production)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest; null uses the AWS managed key aws/dynamodb (server_side_encryption is enabled, which is KMS encryption)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
