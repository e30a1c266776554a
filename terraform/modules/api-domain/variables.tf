variable "domain_name" {
  description = "The custom domain, e.g. chat.example.com (a name the certificate covers)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a fully qualified domain name in lowercase, such as chat.example.com (no scheme, path or wildcard)."
  }
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate for domain_name, issued in the API's own region (regional endpoint)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:certificate/[a-zA-Z0-9-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID."
  }
}

variable "api_id" {
  description = "The API to map (WebSocket or HTTP)."
  type        = string
}

variable "stage_name" {
  description = "The stage served at the domain's root (the WebSocket API's stage, or $default for the HTTP API)."
  type        = string
}

variable "tags" {
  description = "Tags added to the domain name."
  type        = map(string)
  default     = {}
}
