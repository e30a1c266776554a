# The composition with a mocked AWS provider: what the environment roots pass in reaches the modules, and the
# backend is either this environment's function (the default) or a URL elsewhere, never both.
mock_provider "aws" {
  source          = "../../testing/aws"
  override_during = plan
}

override_resource {
  target          = module.backend_function[0].aws_lambda_alias.this
  override_during = plan
  values = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-backend:live"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-backend:live/invocations"
  }
}

override_resource {
  target          = module.chat_table[0].aws_dynamodb_table.this
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"
  }
}

override_resource {
  target          = module.http_api[0].aws_apigatewayv2_api.this
  override_during = plan
  values = {
    id            = "h1t2t3p4a5"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5"
    api_endpoint  = "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com"
  }
}

variables {
  cors_allowed_origins             = ["https://app.booking.internal"]
  environment                      = "test"
  proxy_secret_ssm_parameter_name  = "/booking-chat/test/proxy-secret"
  jwt_secret_ssm_parameter_name    = "/booking-chat/test/jwt-secret"
  service_token_ssm_parameter_name = "/booking-chat/test/service-token"
  lambda_package_path              = "main.tf" # any file: the plan only hashes it
  backend_package_path             = "outputs.tf"
  throttling_burst_limit           = 50
  throttling_rate_limit            = 25
  log_retention_days               = 7
  table_deletion_protection        = false
}

run "the_secrets_kms_key_reaches_both_functions_policies" {
  command = plan
  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]])
    error_message = "secret_kms_key_arn must reach the proxy function (kms:Decrypt on the key)"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement :
    s.Action == ["kms:Decrypt"] && s.Resource == ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]])
    error_message = "secret_kms_key_arn must reach the backend function"
  }
}

run "the_architecture_reaches_the_function" {
  command = plan
  variables {
    lambda_architecture = "x86_64"
  }

  assert {
    condition     = output.function_architecture == "x86_64" && module.backend_function[0].architecture == "x86_64"
    error_message = "lambda_architecture must reach both functions"
  }
}

run "the_api_invokes_the_published_alias" {
  command = plan

  assert {
    condition     = output.function_alias == "live" && output.function_version == "1"
    error_message = "the alias and the version it points at are outputs, for rollbacks"
  }
  assert {
    condition     = output.backend_function_alias == "live" && output.backend_function_version == "1"
    error_message = "the backend's alias and version too"
  }
}

run "the_proxy_may_put_delete_and_query_only_its_own_table" {
  command = plan

  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
      s.Action == ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/mock"]])
    error_message = "the connections table's ARN reaches the proxy's policy, with exactly PutItem, DeleteItem, Query and BatchWriteItem"
  }
}

run "the_proxy_invokes_the_backend_function_alias_and_nothing_else" {
  command = plan

  assert {
    condition     = output.proxy_environment["BACKEND_FUNCTION"] == "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-backend:live"
    error_message = "BACKEND_FUNCTION is the backend's alias ARN"
  }
  assert {
    condition     = !contains(keys(output.proxy_environment), "BACKEND_URL")
    error_message = "no BACKEND_URL beside it: exactly one way to the backend"
  }
  assert {
    condition = [for s in jsondecode(output.proxy_policy_json).Statement : s.Resource if contains(s.Action, "lambda:InvokeFunction")] == [
      ["arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-backend:live"],
    ]
    error_message = "lambda:InvokeFunction on the alias ARN only"
  }
}

run "the_backend_function_is_wired_to_its_tables_api_and_secrets" {
  command = plan

  assert {
    condition = (output.backend_environment["APP_ENV"] == "test" && output.backend_environment["CHAT_STORE"] == "dynamodb"
      && output.backend_environment["CHAT_TABLE"] == "booking-chat-test-chat"
      && output.backend_environment["CONNECTIONS_TABLE"] == "booking-chat-test-connections"
    && output.backend_environment["MANAGEMENT_ENDPOINT"] == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test")
    error_message = "APP_ENV is the environment, the chat table, the connections table and the stage's Management API endpoint"
  }
  assert {
    condition = (output.backend_environment["JWT_SECRET_SSM_PARAMETER"] == "/booking-chat/test/jwt-secret"
      && output.backend_environment["PROXY_SECRET_SSM_PARAMETER"] == "/booking-chat/test/proxy-secret"
    && output.backend_environment["SERVICE_TOKEN_SSM_PARAMETER"] == "/booking-chat/test/service-token")
    error_message = "the backend reads the JWT secret, the proxy secret it shares with the proxy, and the service token by name"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ChatTable"
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"]])
    error_message = "the chat table's ARN reaches the backend's policy"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ChatTableIndexes"
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat/index/gsi1"]])
    error_message = "Query on the chat table's gsi1"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "PostToConnections"
    && s.Resource == ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*"]])
    error_message = "status pushes to this environment's WebSocket stage only"
  }
  assert {
    condition     = output.chat_table_name == "booking-chat-test-chat" && output.backend_function_name == "booking-chat-test-backend"
    error_message = "resources named after the environment"
  }
}

run "an_identity_provider_reaches_the_backend_function" {
  command = plan

  variables {
    identity_provider = { jwks_url = "https://tenant.eu.auth0.com/.well-known/jwks.json", issuer = "https://tenant.eu.auth0.com/", audience = "booking-chat" }
  }

  assert {
    condition = (output.backend_environment["JWT_JWKS_URL"] == "https://tenant.eu.auth0.com/.well-known/jwks.json"
      && output.backend_environment["JWT_ISSUER"] == "https://tenant.eu.auth0.com/"
    && output.backend_environment["JWT_AUDIENCE"] == "booking-chat")
    error_message = "the provider's JWKS URL, issuer and audience are the backend's JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE"
  }
}

run "the_http_api_fronts_the_backend_function" {
  command = plan

  # Routes, CORS, throttling and the invoke permission are module http-api's own tests.
  assert {
    condition     = output.http_api_url == "https://h1t2t3p4a5.execute-api.eu-west-1.amazonaws.com" && output.http_api_id == "h1t2t3p4a5"
    error_message = "the HTTP API's base URL is an output"
  }
  assert {
    condition     = module.http_api[0].stage_name == "$default"
    error_message = "one $default stage"
  }
}

run "cors_origins_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
  }
  expect_failures = [var.cors_allowed_origins]
}

# Custom domains: one per API, each mapping its API's stage at the root; none by default.

run "no_custom_domains_by_default" {
  command = plan

  assert {
    condition     = length(module.websocket_domain) == 0 && length(module.http_domain) == 0
    error_message = "no custom domain unless asked"
  }
  assert {
    condition = (output.websocket_custom_domain_url == null && output.http_custom_domain_url == null
    && output.websocket_domain_dns == null && output.http_domain_dns == null)
    error_message = "no custom domain outputs"
  }
}

run "each_custom_domain_maps_its_apis_stage" {
  command = plan
  variables {
    websocket_domain_name     = "chat.booking.internal"
    websocket_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    http_domain_name          = "api.booking.internal"
    http_certificate_arn      = "arn:aws:acm:eu-west-1:123456789012:certificate/5678abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = module.websocket_domain[0].mapped_api_id == "a1b2c3d4e5" && module.websocket_domain[0].mapped_stage == "test"
    error_message = "the WebSocket domain serves the WebSocket API's stage"
  }
  assert {
    condition     = module.http_domain[0].mapped_api_id == "h1t2t3p4a5" && module.http_domain[0].mapped_stage == "$default"
    error_message = "the HTTP domain serves the HTTP API's $default stage"
  }
  assert {
    condition     = output.websocket_custom_domain_url == "wss://chat.booking.internal" && output.http_custom_domain_url == "https://api.booking.internal"
    error_message = "the custom domain URLs clients use"
  }
  assert {
    condition     = output.websocket_domain_dns.name == "chat.booking.internal" && output.http_domain_dns.name == "api.booking.internal"
    error_message = "the DNS records to create, by name"
  }
  assert {
    condition     = output.management_endpoint == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
    error_message = "the Management API endpoint stays the execute-api one: a custom domain does not serve @connections"
  }
}

run "one_domain_for_both_apis_is_refused" {
  command = plan
  variables {
    websocket_domain_name     = "chat.booking.internal"
    websocket_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    http_domain_name          = "chat.booking.internal"
    http_certificate_arn      = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.http_domain_name]
}

run "a_domain_without_its_certificate_is_refused" {
  command = plan
  variables {
    websocket_domain_name = "chat.booking.internal"
  }
  expect_failures = [var.websocket_certificate_arn]
}

run "an_http_domain_with_a_backend_elsewhere_is_refused" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
    http_domain_name                 = "api.booking.internal"
    http_certificate_arn             = "arn:aws:acm:eu-west-1:123456789012:certificate/5678abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.http_domain_name]
}

run "both_tables_are_named_after_the_environment" {
  command = plan

  # Keys, PITR, TTL, encryption and deletion protection are the table modules' own tests; the applied
  # tables are checked on moto (scripts/terraform-moto-test.sh).
  assert {
    condition     = module.chat_table[0].name == "booking-chat-test-chat" && module.connections_table.name == "booking-chat-test-connections"
    error_message = "a chat table beside the connections table"
  }
}

run "a_backend_elsewhere_means_no_backend_function_no_chat_table_and_no_http_api" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.internal"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
  }

  assert {
    condition     = length(module.backend_function) == 0 && length(module.chat_table) == 0 && length(module.http_api) == 0
    error_message = "no backend function, no chat table and no HTTP API"
  }
  assert {
    condition     = output.http_api_url == null
    error_message = "no HTTP API URL"
  }
  assert {
    condition     = output.proxy_environment["BACKEND_URL"] == "https://chat-backend.internal" && !contains(keys(output.proxy_environment), "BACKEND_FUNCTION")
    error_message = "the proxy calls the URL, and only the URL"
  }
  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.proxy_policy_json).Statement : [for a in s.Action : startswith(a, "lambda:")]]))
    error_message = "no lambda:InvokeFunction without a backend function"
  }
  assert {
    condition     = output.backend_function_name == null && output.chat_table_name == null && output.backend_policy_json == null
    error_message = "no backend outputs"
  }
}

run "backend_secrets_with_a_backend_elsewhere_are_refused" {
  command = plan
  variables {
    cors_allowed_origins = []
    backend_url          = "https://chat-backend.internal"
    backend_package_path = null
  }
  expect_failures = [var.jwt_secret_secrets_manager_arn, var.service_token_secrets_manager_arn]
}

run "a_backend_function_without_its_secrets_is_refused" {
  command = plan
  variables {
    jwt_secret_ssm_parameter_name = null
  }
  expect_failures = [var.jwt_secret_secrets_manager_arn]
}

run "a_backend_function_without_its_package_is_refused" {
  command = plan
  variables {
    backend_package_path = null
  }
  expect_failures = [var.backend_package_path]
}

run "postgres_drops_the_chat_table_and_puts_the_backend_in_the_vpc" {
  command = plan
  variables {
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/test/database-url"
    vpc_subnet_ids                  = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    vpc_security_group_ids          = ["sg-0123456789abcdef0"]
  }

  assert {
    condition     = length(module.chat_table) == 0 && output.chat_table_name == null
    error_message = "no chat table with PostgreSQL"
  }
  assert {
    condition = (output.backend_environment["CHAT_STORE"] == "postgres" && output.backend_environment["DATABASE_URL_SSM_PARAMETER"] == "/booking-chat/test/database-url"
    && !contains(keys(output.backend_environment), "CHAT_TABLE"))
    error_message = "the backend reads the database URL by name, and has no chat table"
  }
  assert {
    condition     = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "VpcNetworkInterfaces"])
    error_message = "the backend may create its network interfaces in the VPC"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.backend_policy_json).Statement : startswith(s.Sid, "ChatTable")])
    error_message = "no chat table access"
  }
  assert {
    condition     = module.backend_function[0].environment["CONNECTIONS_TABLE"] == "booking-chat-test-connections"
    error_message = "status pushes still use the connections table"
  }
}

run "postgres_without_subnets_is_refused" {
  command = plan
  variables {
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/test/database-url"
  }
  expect_failures = [var.vpc_subnet_ids, var.vpc_security_group_ids]
}

run "a_database_url_without_postgres_is_refused" {
  command = plan
  variables {
    database_url_ssm_parameter_name = "/booking-chat/test/database-url"
  }
  expect_failures = [var.database_url_secrets_manager_arn]
}

run "the_local_environment_is_refused" {
  command = plan
  variables {
    environment = "local"
  }
  expect_failures = [var.environment]
}
