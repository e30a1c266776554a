variable "name" {
  description = "Name of the DynamoDB table of the chat store (the backend function's CHAT_TABLE)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "A DynamoDB table name is 3 to 255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the table (on in production): it holds every message."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for encryption at rest (its key policy must allow DynamoDB for the account's principals); null uses the AWS managed key aws/dynamodb."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
