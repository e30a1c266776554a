# State in S3 with S3-native locking; bucket and region come from backend.hcl (see backend.hcl.example):
#   terraform init -backend-config=backend.hcl
terraform {
  backend "s3" {
    key          = "booking-chat/account/eu-west-1/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
