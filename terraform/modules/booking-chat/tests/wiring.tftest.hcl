# The composition with a mocked AWS provider: what the environment roots pass in reaches the modules, the
# backend is either this environment's function (the default) or a URL elsewhere, never both, each function
# gets exactly its contract (its environment, its permissions), and the environment alarms on what means
# trouble. How a function runs, is published and reads its secrets is module lambda-function's own tests.
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
  target          = aws_cloudwatch_event_bus.chat_events[0]
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"
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

# Both functions fan out (connections/src/fanout.rs): they post to connections and close those whose token
# has expired, through the Management API of this stage.

run "both_functions_may_post_to_and_close_connections_of_this_stage_only" {
  command = plan

  assert {
    condition = alltrue([for policy in [output.proxy_policy_json, output.backend_policy_json] :
      [for s in jsondecode(policy).Statement : s.Resource if contains(s.Action, "execute-api:ManageConnections")] == [[
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/POST/@connections/*",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/DELETE/@connections/*",
    ]]])
    error_message = "PostToConnection and DeleteConnection (closing expired connections) on this API's stage, in one statement of each role"
  }
  assert {
    condition = alltrue([for policy in [output.proxy_policy_json, output.backend_policy_json] :
      anytrue([for s in jsondecode(policy).Statement : s.Sid == "ManageConnections" && s.Action == ["execute-api:ManageConnections"]])
    ])
    error_message = "exactly execute-api:ManageConnections"
  }
  assert {
    condition = alltrue(flatten([for policy in [output.proxy_policy_json, output.backend_policy_json] :
    [for s in jsondecode(policy).Statement : [for a in s.Action : !strcontains(lower(a), "scan") && !strcontains(a, "*")]]]))
    error_message = "no Scan and no wildcard actions in either role"
  }
  assert {
    condition = alltrue(flatten([for policy in [output.proxy_policy_json, output.backend_policy_json] :
    [for s in jsondecode(policy).Statement : s.Sid == "Tracing" || !contains(s.Resource, "*")]]))
    error_message = "only X-Ray, which has no resource-level permissions, may use a wildcard resource"
  }
}

# The proxy function: its environment and its permissions.

run "the_proxys_environment_is_the_contract_it_reads" {
  command = plan

  assert {
    condition = output.proxy_environment == tomap({
      BACKEND_FUNCTION           = "arn:aws:lambda:eu-west-1:123456789012:function:booking-chat-test-backend:live"
      BACKEND_TIMEOUT_MS         = "10000"
      CONNECTIONS_TABLE          = "booking-chat-test-connections"
      MAX_FRAME_BYTES            = "32768"
      FANOUT_CONCURRENCY         = "32"
      METRICS_NAMESPACE          = "BookingChat"
      RUST_LOG                   = "info"
      LOG_SAMPLE_RATE            = "1"
      PROXY_SECRET_SSM_PARAMETER = "/booking-chat/test/proxy-secret"
    })
    error_message = "exactly the variables of lambda/src/config.rs's contract: the secret by name, never by value"
  }
}

run "the_proxy_may_do_exactly_what_its_code_does" {
  command = plan

  assert {
    condition = [for s in jsondecode(output.proxy_policy_json).Statement : s.Sid] == [
      "OwnLogs", "ConnectionRecords", "ManageConnections", "InvokeBackend", "SecretParameters", "Tracing",
    ]
    error_message = "these statements and no other (no KMS without a key)"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement : s.Sid == "ConnectionRecords"
      && s.Action == ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/mock"]])
    error_message = "the connections table's ARN reaches the proxy's policy, with exactly the actions connections/src/store/dynamodb.rs makes: PutItem, DeleteItem, Query, BatchWriteItem (a user connection's item per booking), GetItem and UpdateItem (refresh)"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.proxy_policy_json).Statement : s.Action if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]))
    == toset(["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]))
    error_message = "no other DynamoDB action in any statement: no Scan"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement : s.Sid == "SecretParameters"
    && s.Action == ["ssm:GetParameter"] && s.Resource == ["arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/proxy-secret"]])
    error_message = "the proxy may read exactly its parameter"
  }
}

run "the_proxy_secret_from_secrets_manager" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name  = null
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/proxy-AbCdEf"
  }

  assert {
    condition = (output.proxy_environment["PROXY_SECRET_SECRETS_MANAGER_ID"] == var.proxy_secret_secrets_manager_arn
    && output.backend_environment["PROXY_SECRET_SECRETS_MANAGER_ID"] == var.proxy_secret_secrets_manager_arn)
    error_message = "both functions get the secret's ARN"
  }
  assert {
    condition = (anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
      s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == [var.proxy_secret_secrets_manager_arn]])
    && !anytrue([for s in jsondecode(output.proxy_policy_json).Statement : contains(s.Action, "ssm:GetParameter")]))
    error_message = "the proxy may read exactly that secret, and no SSM parameter"
  }
}

run "both_proxy_secret_sources_are_refused" {
  command = plan
  variables {
    proxy_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/proxy-AbCdEf"
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
}

run "no_proxy_secret_is_refused" {
  command = plan
  variables {
    proxy_secret_ssm_parameter_name = null
  }
  expect_failures = [var.proxy_secret_secrets_manager_arn]
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
    error_message = "lambda:InvokeFunction on the alias ARN only: not $LATEST, a version, another alias or another function"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.proxy_policy_json).Statement :
    s.Sid == "InvokeBackend" && s.Action == ["lambda:InvokeFunction"]])
    error_message = "exactly lambda:InvokeFunction"
  }
  assert {
    condition     = length([for s in jsondecode(output.proxy_policy_json).Statement : s if anytrue([for a in s.Action : startswith(a, "lambda:")])]) == 1
    error_message = "no other Lambda permission"
  }
}

# The backend function: its environment and its permissions.

run "the_backends_environment_is_the_contract_it_reads" {
  command = plan

  assert {
    condition = output.backend_environment == tomap({
      APP_ENV                      = "test"
      LOG_FORMAT                   = "json"
      RUST_LOG                     = "info"
      LOG_SAMPLE_RATE              = "1"
      CHAT_STORE                   = "dynamodb"
      CHAT_TABLE                   = "booking-chat-test-chat"
      CONNECTIONS_TABLE            = "booking-chat-test-connections"
      MANAGEMENT_ENDPOINT          = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/test"
      METRICS_NAMESPACE            = "BookingChat"
      STAGE                        = "test"
      AWS_TIMEOUT_MS               = "3000"
      EVENT_BUS_NAME               = "booking-chat-test"
      JWT_SECRET_SSM_PARAMETER     = "/booking-chat/test/jwt-secret"
      PROXY_SECRET_SSM_PARAMETER   = "/booking-chat/test/proxy-secret"
      SERVICE_TOKEN_SSM_PARAMETER  = "/booking-chat/test/service-token"
      CONTACT_MASK_STATUSES        = "requested"
      CONTACT_MASK_KINDS           = "phone,email,link,handle"
      CONTACT_PHONE_REGIONS        = "US,GB,FR,DE,ES,IT,NL"
      CHAT_READ_ONLY_AFTER_SECONDS = "604800"
    })
    error_message = "exactly the variables of the backend's contract: secrets by name, never by value; METRICS_NAMESPACE and STAGE for its fan-out and event metrics; EVENT_BUS_NAME for its events; the chat rules, the code's defaults unless asked"
  }
}

run "the_backend_may_do_exactly_what_its_code_does" {
  command = plan
  variables {
    service_token_ssm_parameter_name  = null
    service_token_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/service-token-AbCdEf"
  }

  assert {
    condition = [for s in jsondecode(output.backend_policy_json).Statement : s.Sid] == [
      "OwnLogs", "ChatTable", "ChatTableIndexes", "ConnectionRecords", "ManageConnections", "PublishChatEvents",
      "SecretParameters", "SecretsManagerSecrets", "Tracing",
    ]
    error_message = "these statements and no other (no VPC, no KMS without a key)"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ChatTable"
      && s.Action == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"]
    && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat"]])
    error_message = "the chat table: item reads and conditional writes (its transaction is authorised per item: Update, Put), Query, and the inbox's batches; no ConditionCheckItem, which no transaction uses"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ChatTableIndexes"
    && s.Action == ["dynamodb:Query"] && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-test-chat/index/gsi1"]])
    error_message = "the index gsi1: Query only"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ConnectionRecords"
    && s.Action == ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem"] && s.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/mock"]])
    error_message = "the connections table: Query (a booking's or a user's connections), DeleteItem (gone, expired or removed members' connections) and PutItem (a new member's user connection), nothing else"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.backend_policy_json).Statement : s.Action if anytrue([for a in s.Action : startswith(a, "dynamodb:")])]))
    == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"]))
    error_message = "no other DynamoDB action anywhere: no Scan, no table management"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "SecretParameters"
      && s.Action == ["ssm:GetParameter"] && toset(s.Resource) == toset([
        "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/jwt-secret",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-chat/test/proxy-secret",
    ])])
    error_message = "exactly its SSM parameters"
  }
  assert {
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "SecretsManagerSecrets"
    && s.Action == ["secretsmanager:GetSecretValue"] && s.Resource == ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/service-token-AbCdEf"]])
    error_message = "exactly its Secrets Manager secret"
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
    condition = anytrue([for s in jsondecode(output.backend_policy_json).Statement : s.Sid == "ManageConnections"
    && alltrue([for r in s.Resource : startswith(r, "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/test/")])])
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

run "an_identity_provider_over_plain_http_or_without_an_audience_is_refused" {
  command = plan
  variables {
    identity_provider = { jwks_url = "http://idp.booking.internal/jwks.json", issuer = "https://idp.booking.internal/", audience = "" }
  }
  expect_failures = [var.identity_provider]
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
  assert {
    condition = (toset(keys(aws_cloudwatch_metric_alarm.metric)) == toset(["proxy-throttles", "proxy-duration", "fanout-failed", "execution-errors", "events-failed"])
    && toset(keys(aws_cloudwatch_metric_alarm.expression)) == toset(["proxy-errors", "connections-throttled"]))
    error_message = "no alarms on what is not here: the backend function, the HTTP API, the chat table"
  }
  assert {
    condition     = output.event_bus_name == "booking-chat-test" && output.event_bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"
    error_message = "the chat events' bus is still the environment's, for the backend elsewhere to publish to (given its name and ARN)"
  }
  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.proxy_policy_json).Statement : [for a in s.Action : startswith(a, "events:")]]))
    error_message = "the proxy never publishes events"
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

run "a_backend_function_without_its_service_token_is_refused" {
  command = plan
  variables {
    service_token_ssm_parameter_name = null
  }
  expect_failures = [var.service_token_secrets_manager_arn]
}

run "a_jwt_secret_from_both_sources_is_refused" {
  command = plan
  variables {
    jwt_secret_secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:booking-chat/test/jwt-AbCdEf"
  }
  expect_failures = [var.jwt_secret_secrets_manager_arn]
}

run "placeholder_backend_urls_are_refused" {
  command = plan
  variables {
    cors_allowed_origins             = []
    backend_url                      = "https://chat-backend.dev.example.com"
    backend_package_path             = null
    jwt_secret_ssm_parameter_name    = null
    service_token_ssm_parameter_name = null
  }
  expect_failures = [var.backend_url]
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
  assert {
    condition     = output.backend_environment["DATABASE_MAX_CONNECTIONS"] == "2"
    error_message = "a small pool per execution environment, which serves one request at a time"
  }
}

run "postgres_without_a_database_url_is_refused" {
  command = plan
  variables {
    chat_store             = "postgres"
    vpc_subnet_ids         = ["subnet-0a1b2c3d"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
  }
  expect_failures = [var.database_url_secrets_manager_arn]
}

run "subnets_without_security_groups_are_refused" {
  command = plan
  variables {
    chat_store                      = "postgres"
    database_url_ssm_parameter_name = "/booking-chat/test/database-url"
    vpc_subnet_ids                  = ["subnet-0a1b2c3d"]
  }
  expect_failures = [var.vpc_security_group_ids]
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

# The environment's alarms (alarms.tf): what means trouble, and who is told.

run "the_environment_has_these_alarms_named_after_it" {
  command = plan

  assert {
    condition = toset(concat(
      [for alarm in aws_cloudwatch_metric_alarm.metric : alarm.alarm_name],
      [for alarm in aws_cloudwatch_metric_alarm.expression : alarm.alarm_name],
      )) == toset([
      "booking-chat-test-proxy-errors", "booking-chat-test-proxy-throttles", "booking-chat-test-proxy-duration",
      "booking-chat-test-backend-errors", "booking-chat-test-backend-throttles", "booking-chat-test-backend-duration",
      "booking-chat-test-fanout-failed", "booking-chat-test-test-execution-errors", "booking-chat-test-http-5xx",
      "booking-chat-test-connections-throttled", "booking-chat-test-chat-throttled", "booking-chat-test-events-failed",
    ])
    error_message = "the functions' errors, throttles and duration, failed fan-outs, both APIs' failures, both tables' throttling, lost chat events: the names the alarms always had"
  }
  assert {
    condition = alltrue([for alarm in concat(values(aws_cloudwatch_metric_alarm.metric), values(aws_cloudwatch_metric_alarm.expression)) :
      alarm.evaluation_periods == 1 && alarm.comparison_operator == "GreaterThanThreshold" && alarm.treat_missing_data == "notBreaching"
    && length(alarm.alarm_actions) == 0 && length(alarm.ok_actions) == 0])
    error_message = "each fires on the first 5-minute period above its threshold, a period without data is fine, and without a topic nobody is told"
  }
  assert {
    condition     = alltrue([for alarm in values(aws_cloudwatch_metric_alarm.metric) : alarm.period == 300])
    error_message = "5-minute periods"
  }
}

run "the_proxys_errors_alarm_leaves_refused_tokens_out" {
  command = plan

  # The $connect authorizer fails with `Unauthorized` (API Gateway's 401) for every missing or bad token, and
  # Lambda counts each in Errors: the alarm subtracts them, counted by the proxy's own embedded-metric-format
  # metric HandshakesUnauthorized (lambda/src/handler.rs), in the namespace and with the Stage it prints.
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query :
      q.id == "errors" && one(q.metric[*].namespace) == "AWS/Lambda" && one(q.metric[*].metric_name) == "Errors"
    && one(q.metric[*].dimensions) == tomap({ FunctionName = "booking-chat-test-proxy" })])
    error_message = "the errors alarm reads the proxy's Errors"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query :
      q.id == "unauthorized" && one(q.metric[*].namespace) == "BookingChat"
      && one(q.metric[*].metric_name) == "HandshakesUnauthorized" && one(q.metric[*].stat) == "Sum"
    && one(q.metric[*].dimensions) == tomap({ Stage = "test" })])
    error_message = "the errors alarm reads HandshakesUnauthorized in the proxy's namespace, for this stage"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query :
    q.return_data == true && q.expression == "FILL(errors, 0) - FILL(unauthorized, 0)"])
    error_message = "errors minus refused tokens, each side FILLed with 0: errors alone alarm, refusals alone do not"
  }
  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query : q if q.return_data == true]) == 1
    error_message = "the alarm evaluates the expression alone"
  }
  assert {
    condition = alltrue([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query :
    length(q.metric) == 0 || one(q.metric[*].period) == 300])
    error_message = "both metrics are summed over the same 300 s period, so the subtraction lines up"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.expression["proxy-errors"].threshold == 0
    error_message = "any error that is not a refused token alarms"
  }
}

run "each_function_alarms_on_throttles_and_on_duration_near_its_timeout" {
  command = plan

  assert {
    condition = alltrue([for key, function in { proxy = "booking-chat-test-proxy", backend = "booking-chat-test-backend" } :
      aws_cloudwatch_metric_alarm.metric["${key}-throttles"].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.metric["${key}-throttles"].metric_name == "Throttles"
      && aws_cloudwatch_metric_alarm.metric["${key}-throttles"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.metric["${key}-throttles"].threshold == 0
    && aws_cloudwatch_metric_alarm.metric["${key}-throttles"].dimensions == tomap({ FunctionName = function })])
    error_message = "any throttled invocation of either function alarms"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["proxy-duration"].metric_name == "Duration"
      && aws_cloudwatch_metric_alarm.metric["proxy-duration"].extended_statistic == "p99"
      && aws_cloudwatch_metric_alarm.metric["proxy-duration"].statistic == null
    && aws_cloudwatch_metric_alarm.metric["proxy-duration"].threshold == 25000)
    error_message = "the proxy's p99 duration above 25 s, close to API Gateway's 29 s"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["backend-duration"].extended_statistic == "p99"
      && aws_cloudwatch_metric_alarm.metric["backend-duration"].threshold == 8000
    && aws_cloudwatch_metric_alarm.metric["backend-duration"].dimensions == tomap({ FunctionName = "booking-chat-test-backend" }))
    error_message = "the backend's p99 duration above 80 % of its default 10 s timeout"
  }
  # The backend answers refusals (401, 403, 404, 409) as responses, not as function errors.
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["backend-errors"].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.metric["backend-errors"].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.metric["backend-errors"].threshold == 0
    && aws_cloudwatch_metric_alarm.metric["backend-errors"].dimensions == tomap({ FunctionName = "booking-chat-test-backend" }))
    error_message = "every error of the backend is a failure"
  }
}

run "the_backends_duration_alarm_follows_its_timeout" {
  command = plan
  variables {
    backend_timeout_seconds = 25
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["backend-duration"].threshold == 20000
    error_message = "80 % of the timeout"
  }
}

run "a_backend_timeout_beyond_api_gateways_is_refused" {
  command = plan
  variables {
    # The proxy waits on the backend over the WebSocket path, which API Gateway gives up on at 29 s (module
    # lambda-function admits up to Lambda's 900 s, for the functions on queues).
    backend_timeout_seconds = 30
  }
  expect_failures = [var.backend_timeout_seconds]
}

run "fanout_failures_of_either_function_alarm" {
  command = plan

  # Both functions print FanoutFailed (connections/src/fanout.rs) with the dimension Stage: the proxy the
  # event's stage, the backend its STAGE, both this environment's WebSocket stage.
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["fanout-failed"].namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.metric["fanout-failed"].metric_name == "FanoutFailed"
      && aws_cloudwatch_metric_alarm.metric["fanout-failed"].dimensions == tomap({ Stage = "test" })
    && aws_cloudwatch_metric_alarm.metric["fanout-failed"].statistic == "Sum" && aws_cloudwatch_metric_alarm.metric["fanout-failed"].threshold == 0)
    error_message = "FanoutFailed in the functions' namespace, by stage: any failed delivery alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["fanout-failed"].dimensions["Stage"] == module.websocket_api.stage_name && output.backend_environment["STAGE"] == module.websocket_api.stage_name
    error_message = "the alarm's Stage is the WebSocket stage, which the backend is told as STAGE"
  }
  assert {
    condition     = output.proxy_environment["METRICS_NAMESPACE"] == "BookingChat" && output.backend_environment["METRICS_NAMESPACE"] == "BookingChat"
    error_message = "both functions print their metrics in the namespace the alarm reads"
  }
}

run "the_alarms_follow_the_metrics_namespace" {
  command = plan
  variables {
    metrics_namespace = "BookingChatStaging"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["fanout-failed"].namespace == "BookingChatStaging"
      && output.proxy_environment["METRICS_NAMESPACE"] == "BookingChatStaging"
    && output.backend_environment["METRICS_NAMESPACE"] == "BookingChatStaging")
    error_message = "the alarm reads the namespace both functions write"
  }
  assert {
    condition = anytrue([for q in aws_cloudwatch_metric_alarm.expression["proxy-errors"].metric_query :
    q.id == "unauthorized" && one(q.metric[*].namespace) == "BookingChatStaging"])
    error_message = "the errors alarm reads refused tokens from the namespace the proxy writes"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["events-failed"].namespace == "BookingChatStaging"
    error_message = "the lost-events alarm reads the namespace the backend writes"
  }
}

run "an_aws_namespace_is_refused" {
  command = plan
  variables {
    metrics_namespace = "AWS/Lambda"
  }
  expect_failures = [var.metrics_namespace]
}

run "the_apis_alarm_on_their_failures_not_on_refused_requests" {
  command = plan

  # ExecutionError: API Gateway could not call the integration. Not IntegrationError, which also counts every
  # handshake the integration refuses on purpose.
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["execution-errors"].namespace == "AWS/ApiGateway"
      && aws_cloudwatch_metric_alarm.metric["execution-errors"].metric_name == "ExecutionError"
    && aws_cloudwatch_metric_alarm.metric["execution-errors"].dimensions == tomap({ ApiId = "a1b2c3d4e5", Stage = "test" }))
    error_message = "ExecutionError of the WebSocket API's stage"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["http-5xx"].namespace == "AWS/ApiGateway" && aws_cloudwatch_metric_alarm.metric["http-5xx"].metric_name == "5xx"
    && aws_cloudwatch_metric_alarm.metric["http-5xx"].dimensions == tomap({ ApiId = "h1t2t3p4a5", Stage = "$default" }))
    error_message = "the HTTP API's 5xx of its stage"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["http-5xx"].threshold == 0 && aws_cloudwatch_metric_alarm.metric["execution-errors"].threshold == 0
    error_message = "any 5xx or execution error alarms"
  }
}

run "each_tables_throttle_alarm_counts_reads_or_writes_alone" {
  command = plan

  assert {
    condition = alltrue([for key, table in { connections = "booking-chat-test-connections", chat = "booking-chat-test-chat" } :
      anytrue([for q in aws_cloudwatch_metric_alarm.expression["${key}-throttled"].metric_query :
    q.return_data == true && q.expression == "FILL(reads, 0) + FILL(writes, 0)"])])
    error_message = "a side without data is 0, so throttled reads alone (or writes alone) still alarm"
  }
  assert {
    condition = alltrue([for key, table in { connections = "booking-chat-test-connections", chat = "booking-chat-test-chat" } :
      toset([for q in aws_cloudwatch_metric_alarm.expression["${key}-throttled"].metric_query :
      [one(q.metric[*].namespace), one(q.metric[*].metric_name), one(q.metric[*].dimensions)] if length(q.metric) > 0])
      == toset([["AWS/DynamoDB", "ReadThrottleEvents", tomap({ TableName = table })], ["AWS/DynamoDB", "WriteThrottleEvents", tomap({ TableName = table })]])
    ])
    error_message = "each alarm reads its own table's read and write throttle events"
  }
}

run "every_alarm_notifies_the_topic" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:booking-chat-alarms"
  }
  assert {
    condition = alltrue([for alarm in concat(values(aws_cloudwatch_metric_alarm.metric), values(aws_cloudwatch_metric_alarm.expression)) :
    alarm.alarm_actions == toset([var.alarm_topic_arn]) && alarm.ok_actions == toset([var.alarm_topic_arn])])
    error_message = "every alarm notifies the topic when it fires and when it clears"
  }
}

run "an_alarm_topic_name_instead_of_its_arn_is_refused" {
  command = plan
  variables {
    alarm_topic_arn = "booking-chat-alarms"
  }
  expect_failures = [var.alarm_topic_arn]
}

# The chat's events for the app (docs/events.md): an EventBridge bus of the environment, which the backend
# names in EVENT_BUS_NAME and may put events on, and nothing else of EventBridge; an alarm when events are
# lost; all of it gone with chat_events off.

run "the_chat_events_bus_is_the_environments" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_bus.chat_events[0].name == "booking-chat-test"
    error_message = "one bus, named like the environment's other resources"
  }
  assert {
    condition     = output.event_bus_name == "booking-chat-test" && output.event_bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"
    error_message = "its name and ARN are outputs, for the app's rules"
  }
  assert {
    condition     = length(aws_cloudwatch_event_archive.chat_events) == 0 && output.event_archive_arn == null
    error_message = "no archive unless asked: it keeps chat text, deleted messages' too"
  }
}

run "the_backend_publishes_to_the_bus_it_names" {
  command = plan

  assert {
    condition     = output.backend_environment["EVENT_BUS_NAME"] == aws_cloudwatch_event_bus.chat_events[0].name
    error_message = "EVENT_BUS_NAME is the bus's name"
  }
  assert {
    condition     = !contains(keys(output.proxy_environment), "EVENT_BUS_NAME")
    error_message = "the proxy publishes no events"
  }
}

run "the_backend_may_put_events_on_its_bus_and_nothing_else_of_eventbridge" {
  command = plan

  assert {
    condition = [for s in jsondecode(output.backend_policy_json).Statement : [s.Action, s.Resource] if s.Sid == "PublishChatEvents"] == [[
      ["events:PutEvents"], ["arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"],
    ]]
    error_message = "one statement: exactly events:PutEvents, on exactly the bus's ARN"
  }
  assert {
    condition = (toset(flatten([for s in jsondecode(output.backend_policy_json).Statement : [for a in s.Action : a if startswith(a, "events:")]]))
    == toset(["events:PutEvents"]))
    error_message = "no other EventBridge action in any statement"
  }
  assert {
    condition = alltrue([for s in jsondecode(output.backend_policy_json).Statement :
    s.Sid == "PublishChatEvents" || !contains(s.Resource, "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test")])
    error_message = "no other statement names the bus"
  }
}

run "lost_chat_events_alarm" {
  command = plan

  # The backend prints EventsFailed (entries still failed after retries) as it prints FanoutFailed: in
  # METRICS_NAMESPACE, with the dimension Stage from STAGE.
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["events-failed"].alarm_name == "booking-chat-test-events-failed"
      && aws_cloudwatch_metric_alarm.metric["events-failed"].namespace == "BookingChat"
      && aws_cloudwatch_metric_alarm.metric["events-failed"].metric_name == "EventsFailed"
    && aws_cloudwatch_metric_alarm.metric["events-failed"].dimensions == tomap({ Stage = "test" }))
    error_message = "EventsFailed in the backend's namespace, for this stage"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["events-failed"].namespace == aws_cloudwatch_metric_alarm.metric["fanout-failed"].namespace
    && aws_cloudwatch_metric_alarm.metric["events-failed"].dimensions == aws_cloudwatch_metric_alarm.metric["fanout-failed"].dimensions)
    error_message = "the same namespace and Stage dimension as fanout-failed"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.metric["events-failed"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.metric["events-failed"].comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.metric["events-failed"].threshold == 0
    && aws_cloudwatch_metric_alarm.metric["events-failed"].period == aws_cloudwatch_metric_alarm.metric["fanout-failed"].period)
    error_message = "a Sum of at least 1 over the 5-minute period of the other alarms: any lost event alarms"
  }
}

run "chat_events_off_removes_the_bus_its_variable_its_permission_and_its_alarm" {
  command = plan
  variables {
    chat_events = false
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus.chat_events) == 0 && output.event_bus_name == null && output.event_bus_arn == null
    error_message = "no bus, and null outputs"
  }
  assert {
    condition     = !contains(keys(output.backend_environment), "EVENT_BUS_NAME")
    error_message = "no EVENT_BUS_NAME: the backend publishes nothing"
  }
  assert {
    condition     = !anytrue(flatten([for s in jsondecode(output.backend_policy_json).Statement : [for a in s.Action : startswith(a, "events:")]]))
    error_message = "no EventBridge permission"
  }
  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.metric), "events-failed")
    error_message = "no alarm on events nobody publishes"
  }
}

run "an_archive_keeps_the_chat_events_for_its_retention" {
  command = plan
  variables {
    chat_events_archive_retention_days = 7
  }

  assert {
    condition = (aws_cloudwatch_event_archive.chat_events[0].name == "booking-chat-test-events"
      && aws_cloudwatch_event_archive.chat_events[0].event_source_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-test"
    && aws_cloudwatch_event_archive.chat_events[0].retention_days == 7)
    error_message = "an archive of the bus, for the days asked"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_archive.chat_events[0].event_pattern) == { source = ["booking-chat"] }
    error_message = "it keeps the chat's events"
  }
  assert {
    condition     = output.event_archive_arn == "arn:aws:events:eu-west-1:123456789012:archive/mock"
    error_message = "its ARN is an output, for replays"
  }
}

run "an_archive_kept_forever_is_refused" {
  command = plan
  variables {
    chat_events_archive_retention_days = 0
  }
  expect_failures = [var.chat_events_archive_retention_days]
}

run "an_archive_without_chat_events_is_refused" {
  command = plan
  variables {
    chat_events                        = false
    chat_events_archive_retention_days = 30
  }
  expect_failures = [var.chat_events_archive_retention_days]
}

run "every_line_and_lambdas_text_lines_unless_asked" {
  command = plan

  assert {
    condition     = output.proxy_environment["LOG_SAMPLE_RATE"] == "1" && output.backend_environment["LOG_SAMPLE_RATE"] == "1"
    error_message = "both functions write every line by default"
  }
  assert {
    condition = (module.proxy_function.logging_config.log_format == "Text"
    && module.backend_function[0].logging_config.log_format == "Text")
    error_message = "the text format, with Lambda's START, END and REPORT lines, by default"
  }
}

run "sampled_lines_and_lambdas_warnings_only_reach_every_function" {
  command = plan

  variables {
    log_sample_rate         = 10
    lambda_system_log_level = "WARN"
  }

  assert {
    condition     = output.proxy_environment["LOG_SAMPLE_RATE"] == "10" && output.backend_environment["LOG_SAMPLE_RATE"] == "10"
    error_message = "the proxy and the backend read the rate from LOG_SAMPLE_RATE"
  }
  assert {
    condition = alltrue([for config in [module.proxy_function.logging_config, module.backend_function[0].logging_config] :
    config.log_format == "JSON" && config.system_log_level == "WARN" && config.application_log_level == "TRACE"])
    error_message = "Lambda's JSON format, its own lines from WARN, none of the functions' lines filtered"
  }
}

run "a_sample_rate_below_one_or_fractional_is_refused" {
  command = plan

  variables {
    log_sample_rate = 0.5
  }

  expect_failures = [var.log_sample_rate]
}

run "a_system_log_level_lambda_does_not_have_is_refused" {
  command = plan

  variables {
    lambda_system_log_level = "ERROR"
  }

  expect_failures = [var.lambda_system_log_level]
}
