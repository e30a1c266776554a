provider "aws" {
  region = local.region

  default_tags {
    tags = merge(
      {
        Project   = "booking-chat"
        Scope     = "account"
        ManagedBy = "terraform"
      },
      var.tags,
    )
  }
}
