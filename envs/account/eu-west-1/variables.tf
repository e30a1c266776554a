variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
