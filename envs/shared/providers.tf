provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        Project     = "booking-chat"
        Environment = local.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}
