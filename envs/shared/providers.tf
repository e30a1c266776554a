provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        Project     = "booking-chat"
        Environment = var.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}
