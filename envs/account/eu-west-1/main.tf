# Once per account and region, before the first environment there: API Gateway's CloudWatch Logs role in
# the account settings of this region (see terraform/modules/apigateway-account). For another region, copy
# this directory to envs/account/<region> and change `region` below and `key` in backend.tf.
locals {
  region = "eu-west-1"
}

module "apigateway_account" {
  source = "../../../terraform/modules/apigateway-account"

  # IAM names are global: the region keeps the roles of several regions apart.
  role_name = "booking-chat-apigateway-logs-${local.region}"
}
