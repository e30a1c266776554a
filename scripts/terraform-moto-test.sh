#!/usr/bin/env bash
# Terraform and the deploy preflight against moto_server, on a temporary copy of terraform/ and envs/:
# - the preflight (scripts/preflight.py) on a fresh account: each missing piece fails with its fix;
# - envs/account/eu-west-1 applied (API Gateway's CloudWatch Logs role), then the preflight passes,
#   refuses another environment's name or state key in a root, an alarm topic missing (staging), absent or
#   without a subscriber, a reservation the account's quota cannot hold, chat events switched off while the
#   app's rules are on their bus, and tells a partial secret ARN from a full one; with notifications, wants
#   their link secret and a verified SES identity (and configuration set), and warns of the SES sandbox;
#   with Web Push, wants its private key's secret and a public key on the P-256 curve, and warns of push
#   services' hosts that leave the browsers' own out; with attachments (on in every environment), wants
#   browser origins outside dev, a media zip Lambda takes, and an enabled key when one is named; with
#   retention (on in every environment), refuses days outside 1 to 3650, no longer than the chat's
#   read-only delay, or beside a backend elsewhere;
# - envs/dev, the whole system (both Lambdas, both APIs, the tables): init, apply, a second plan that must
#   show no changes, what was applied checked through the AWS CLI (the $connect authorizer, the proxy
#   invoking the backend's alias, the backend's environment, both roles' @connections permissions, every
#   alarm notifying the topic, the HTTP API's routes, integration, stage, CORS and invoke permission, the
#   chat table's keys, index, TTL and recovery, the chat events' bus and archive, a rule of the app on
#   that bus delivering to SQS as docs/deploying.md shows, and the email notifications: their queues, rule,
#   event source mapping, the notifier's environment and role, a new message reaching their queue; Web
#   Push: the VAPID private key by name to the notifier alone, never its value, the public key to the
#   backend and notifier, the push-failed and push-unauthorized alarms, the push subscription routes;
#   attachments: the bucket's public access block, ownership, encryption, policy, lifecycle rules, CORS and
#   upload notification, the media queues and their policy, the processor's mapping, environment and role,
#   the backend's, an upload under uploads/ reaching the queue and a file under files/ not; the retention
#   job: the backend's zip as its own function, its environment and role, no Lambda retry, the hourly
#   schedule in the environment's group with its target, input, retry policy and dead-letter queue, the
#   scheduler's role and trust, the queue's policy, its three alarms), destroy (the dev bucket emptied by
#   it); then the account root destroyed;
# - make apply ARCH=x86_64 hands the x86_64 architecture and the four zips to Terraform.
# Prints `moto: N passed, N failed` (counted by make test).
#
# moto's gaps are handled in the copy, by override files written at test time, never by changing the
# production files:
# - the provider points every service at moto, with test credentials and few retries; state is local;
# - moto has no CreateDeployment for API Gateway v2: the deployment is not created and the stage has none;
# - moto cannot reset API Gateway's account settings (UpdateAccount without a value): the account root is
#   destroyed without reset_on_delete, and that reset is asserted only by the module's terraform test;
# - moto has no Lambda GetAccountSettings: the preflight runs with PREFLIGHT_SKIP=concurrency, and the
#   quota check itself runs against an `aws` wrapper that answers that one call from a file;
# - moto never verifies an SES identity and has no SES GetAccount: the preflight's SES checks run against a
#   wrapper that says the identity is verified and answers GetAccount from a file;
# - moto has no SQS RedriveAllowPolicy (the provider would wait 20 minutes for it): the dead-letter queues'
#   allow-policies are not created, and are asserted by the module's terraform test only;
# - moto invokes a function in Docker for each message sent to a queue with an enabled event source
#   mapping: the notifier's and the media processor's mappings are applied disabled, so that messages stay
#   in their queues to be read (the processor itself is tested by its crate, not here);
# - moto answers a queue's RedrivePolicy re-serialised (with spaces) and a mapping's FunctionArn with the
#   version its alias points at: the second plan ignores those two attributes, which the AWS CLI checks;
# - moto keeps a bucket policy but enforces none of it (nor TLS: its endpoint is plain http), so the
#   policy's two denials are read back, not exercised; S3 itself is addressed path-style;
# - moto cannot read back a lifecycle rule whose filter is an And (prefix and tags): the provider would wait
#   3 minutes for it, so the module filters unreferenced files by their tag alone (only the processor
#   writes it). Each lifecycle configuration takes the provider's ~55 s of consistent reads, on AWS too;
# - moto neither keeps nor answers a function's LoggingConfig (the provider reads it back empty): the second
#   plan ignores it; the module's terraform test asserts it;
# - moto stores EventBridge Scheduler's schedules and groups but never runs them: the schedule is read back
#   as applied, but nothing invokes the retention job, so the scheduler assuming its role, the invocation
#   and the dead-letter delivery are not exercised (nor is the job itself: it is tested by its crate).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
command -v aws >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'awscli>=1.32'
if [ -d /opt/tf-plugins ]; then export TF_CLI_CONFIG_FILE="$root/terraform/mirror.tfrc"; fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
passed=0
failed=0
cleanup() {
  status=$?
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then echo "--- moto log ---"; tail -n 30 "$work/moto.log"; fi
  rm -rf "$work"
  echo "moto: $passed passed, $(( failed + (status != 0 && failed == 0 ? 1 : 0) )) failed"
  exit "$status"
}
trap cleanup EXIT
endpoint="http://127.0.0.1:$port"
python3 - "$endpoint" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("moto_server did not start")
PY

# The AWS CLI and Terraform both talk to moto, as a fresh account in eu-west-1.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=eu-west-1 AWS_ENDPOINT_URL="$endpoint"
unset AWS_PROFILE AWS_SESSION_TOKEN

cp -a terraform envs "$work/"
# Leave behind whatever a developer initialised in the real tree (a real backend, providers).
find "$work/terraform" "$work/envs" -name .terraform -type d -prune -exec rm -rf {} +
find "$work/terraform" "$work/envs" -name 'backend.hcl' -delete
find "$work/envs" -name '*.auto.tfvars' -delete
for dir in envs/dev envs/account/eu-west-1; do
  cat >"$work/$dir/moto_override.tf" <<HCL
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  max_retries                 = 1

  endpoints {
    apigateway     = "$endpoint"
    apigatewayv2   = "$endpoint"
    cloudwatch     = "$endpoint"
    cloudwatchlogs = "$endpoint"
    dynamodb       = "$endpoint"
    events         = "$endpoint"
    iam            = "$endpoint"
    kms            = "$endpoint"
    lambda         = "$endpoint"
    s3             = "$endpoint"
    scheduler      = "$endpoint"
    secretsmanager = "$endpoint"
    sns            = "$endpoint"
    sqs            = "$endpoint"
    ssm            = "$endpoint"
    sts            = "$endpoint"
  }
  s3_use_path_style = true
}
HCL
done
cat >"$work/terraform/modules/websocket-api/moto_override.tf" <<'HCL'
resource "aws_apigatewayv2_deployment" "this" {
  count = 0
}

resource "aws_apigatewayv2_stage" "this" {
  deployment_id = null
}
HCL
cat >"$work/terraform/modules/booking-chat/moto_override.tf" <<'HCL'
resource "aws_sqs_queue_redrive_allow_policy" "notifications_dead_letter" {
  count = 0
}

resource "aws_sqs_queue" "notifications" {
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_lambda_event_source_mapping" "notifications" {
  enabled = false

  lifecycle {
    ignore_changes = [function_name]
  }
}

resource "aws_sqs_queue_redrive_allow_policy" "media_dead_letter" {
  count = 0
}

resource "aws_sqs_queue" "media" {
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_lambda_event_source_mapping" "media" {
  enabled = false

  lifecycle {
    ignore_changes = [function_name]
  }
}
HCL
cat >"$work/terraform/modules/lambda-function/moto_override.tf" <<'HCL'
resource "aws_lambda_function" "this" {
  lifecycle {
    ignore_changes = [logging_config]
  }
}
HCL
cat >"$work/terraform/modules/apigateway-account/moto_override.tf" <<'HCL'
resource "aws_api_gateway_account" "this" {
  reset_on_delete = false
}
HCL

# Placeholder packages stand in for `make package`: made here, in the temporary directory, never committed.
python3 - "$work/bootstrap.zip" "$work/backend-bootstrap.zip" "$work/notifier-bootstrap.zip" "$work/media-bootstrap.zip" <<'PY'
import sys, zipfile
for path in sys.argv[1:]:
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\n# " + path + "\n")
PY

# --- helpers -------------------------------------------------------------------------------------------
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; sed 's/^/    /' "$work/out"; }
# preflight_expect NAME pass|fail|usage [TEXT...]: runs the preflight for dev (PREFLIGHT_ENV for another);
# passes when it exits with 0, 1 (checks failed) or 2 (refused to run) as expected and its output contains
# every TEXT.
preflight_expect() {
  local name=$1 want=$2 status=0 text
  shift 2
  "$python" "$root/scripts/preflight.py" env "${PREFLIGHT_ENV:-dev}" --envs-dir "$work/envs" >"$work/out" 2>&1 || status=$?
  if { [ "$want" = pass ] && [ "$status" -ne 0 ]; } || { [ "$want" = fail ] && [ "$status" -ne 1 ]; } \
    || { [ "$want" = usage ] && [ "$status" -ne 2 ]; }; then
    not_ok "$name (exit $status)"; return
  fi
  for text in "$@"; do
    if ! grep -qF -- "$text" "$work/out"; then not_ok "$name (no \"$text\" in the output)"; return; fi
  done
  ok "$name"
}
tf() { terraform "$@" -no-color -input=false; }
# The interpreter itself, not a version manager's shim (pyenv's puts its own bin directory, and the real
# aws, first on PATH, which would bypass the aws wrapper below).
python=$(python3 -c 'import sys; print(sys.executable)')

# --- the preflight on a fresh account ------------------------------------------------------------------
preflight_expect "preflight: a missing backend.hcl says to copy the example" fail \
  "envs/dev/backend.hcl is missing" "cp envs/dev/backend.hcl.example envs/dev/backend.hcl"
printf 'bucket = "booking-chat-state-moto"\nregion = "eu-west-1"\n' >"$work/envs/dev/backend.hcl"
cp "$work/envs/dev/backend.hcl" "$work/envs/account/eu-west-1/backend.hcl"

AWS_ENDPOINT_URL=http://127.0.0.1:9 preflight_expect "preflight: unusable credentials are named before any other AWS check" fail \
  "FAIL  credentials" "aws sts get-caller-identity"

TF_VAR_backend_url=https://chat-backend.dev.example.com preflight_expect "preflight: a placeholder backend_url is refused" fail \
  "is a placeholder host" 'backend_url = "https://'
TF_VAR_backend_url=https://chat-backend.internal preflight_expect "preflight: a backend elsewhere beside the backend function's secrets is refused, naming them" fail \
  "sets what only the backend function uses: jwt_secret_ssm_parameter_name, service_token_ssm_parameter_name" \
  "or remove backend_url to deploy the backend function"

preflight_expect "preflight: a fresh account lacks every secret and API Gateway's logging role, each with its fix" fail \
  "ok    backend: the backend function booking-chat-dev-backend" \
  "SSM parameter /booking-chat/dev/proxy-secret does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/proxy-secret --type SecureString" \
  "SSM parameter /booking-chat/dev/jwt-secret does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/jwt-secret --type SecureString" \
  "SSM parameter /booking-chat/dev/service-token does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/service-token --type SecureString" \
  "API Gateway has no CloudWatch Logs role in eu-west-1" "make account-apply REGION=eu-west-1" \
  "cors_allowed_origins is not set" 'cors_allowed_origins = ["https://'
printf 'chat_store = "postgres"\ndatabase_url_ssm_parameter_name = "/booking-chat/dev/database-url"\n' >"$work/envs/dev/store.auto.tfvars"
preflight_expect "preflight: with PostgreSQL the database URL is checked too" fail \
  "SSM parameter /booking-chat/dev/database-url does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/database-url --type SecureString"
rm "$work/envs/dev/store.auto.tfvars"

# --- the account root, once per account and region ------------------------------------------------------
if "$python" "$root/scripts/preflight.py" account eu-west-1 --envs-dir "$work/envs" >"$work/out" 2>&1 \
  && grep -qF "none yet in eu-west-1" "$work/out"; then
  ok "preflight: the account root is ready to apply"
else
  not_ok "preflight: the account root is ready to apply"
fi
(cd "$work/envs/account/eu-west-1" && tf init >/dev/null && tf apply -auto-approve | tail -n 3)
role=$(aws apigateway get-account --query cloudwatchRoleArn --output text)
if [ "$role" = "arn:aws:iam::123456789012:role/booking-chat-apigateway-logs-eu-west-1" ]; then
  ok "the account root sets API Gateway's CloudWatch Logs role"
else
  echo "cloudwatchRoleArn: $role" >"$work/out"; not_ok "the account root sets API Gateway's CloudWatch Logs role"
fi

TF_VAR_cors_allowed_origins='["https://app.example.com"]' preflight_expect "preflight: a placeholder web origin is refused" fail \
  "CORS origins: placeholder hosts: https://app.example.com"
TF_VAR_cors_allowed_origins='["https://app.booking.internal/"]' preflight_expect "preflight: an origin with a path is refused" fail \
  "not https://host[:port] origins: https://app.booking.internal/"
# The web origin of this test's deployment, kept for the apply below.
echo 'cors_allowed_origins = ["https://app.booking.internal"]' >"$work/envs/dev/cors.auto.tfvars"

aws ssm put-parameter --name /booking-chat/dev/proxy-secret --value moto-test-secret --type String >/dev/null
preflight_expect "preflight: a plain String parameter is not accepted as the secret" fail "is a String, not a SecureString"
aws ssm put-parameter --name /booking-chat/dev/proxy-secret --value moto-test-secret --type SecureString --overwrite >/dev/null
aws ssm put-parameter --name /booking-chat/dev/jwt-secret --value moto-jwt-secret --type SecureString >/dev/null
aws ssm put-parameter --name /booking-chat/dev/service-token --value moto-service-token --type SecureString >/dev/null

preflight_expect "preflight: passes once the role and the secrets exist" pass \
  "ok    environment: dev, state at booking-chat/dev/terraform.tfstate" \
  "ok    proxy secret: SSM SecureString /booking-chat/dev/proxy-secret" \
  "ok    JWT secret: SSM SecureString /booking-chat/dev/jwt-secret" \
  "ok    service token: SSM SecureString /booking-chat/dev/service-token" \
  "ok    CORS origins: https://app.booking.internal" "ok    API Gateway logging role" \
  "ok    attachments: on: the bucket booking-chat-dev-attachments-<account id>, uploads from https://app.booking.internal" \
  "ok    retention: the chat of bookings that ended more than 30 days ago deleted every hour (booking-chat-dev-retention)" \
  "skip  alarm topic: alarm_topic_arn is unset: dev's alarms have no actions" \
  "ok    chat events: on: the EventBridge bus booking-chat-dev" "preflight: ok"
TF_VAR_chat_events=false preflight_expect "preflight: chat events off, with no bus to delete, pass" pass \
  "ok    chat events: off (there is no bus booking-chat-dev in eu-west-1)"

# An environment is its values and its state: a root copied from another keeps both until told.
echo 'environment = "staging"' >"$work/envs/dev/name.auto.tfvars"
preflight_expect "preflight: another environment's name in a root is refused" fail \
  'envs/dev/terraform.tfvars says environment = "staging", not "dev"' 'environment = "dev"'
rm "$work/envs/dev/name.auto.tfvars"
cp "$work/envs/dev/backend.tf" "$work/dev-backend.tf"
sed -i 's#booking-chat/dev/#booking-chat/staging/#' "$work/envs/dev/backend.tf"
preflight_expect "preflight: another environment's state key in a root is refused" fail \
  "envs/dev/backend.tf keeps its state at booking-chat/staging/terraform.tfstate, as envs/staging does"
cp "$work/dev-backend.tf" "$work/envs/dev/backend.tf"

# Alarms: outside dev they must tell someone, so staging and prod name a topic with a confirmed subscription.
PREFLIGHT_ENV=staging preflight_expect "preflight: staging without an alarm topic is refused" fail \
  "FAIL  alarm topic: alarm_topic_arn is not set: staging's alarms would tell nobody" \
  "aws sns create-topic --region eu-west-1 --name booking-chat-staging-alarms"
topic_tfvars() { printf 'alarm_topic_arn = "%s"\n' "$1" >"$work/envs/dev/alarms.auto.tfvars"; }
topic_tfvars arn:aws:sns:eu-west-1:123456789012:booking-chat-dev-alarms
preflight_expect "preflight: a topic that does not exist is refused" fail \
  "topic arn:aws:sns:eu-west-1:123456789012:booking-chat-dev-alarms does not exist in eu-west-1"
topic=$(aws sns create-topic --name booking-chat-dev-alarms --query TopicArn --output text)
preflight_expect "preflight: a topic nobody subscribed to is refused" fail \
  "has no confirmed subscription: an alarm would tell nobody" "aws sns subscribe --region eu-west-1 --topic-arn $topic"
aws sns subscribe --topic-arn "$topic" --protocol email --notification-endpoint oncall@booking.internal >/dev/null
preflight_expect "preflight: a subscribed topic passes" pass "ok    alarm topic: $topic (1 confirmed subscription)"
topic_tfvars "${topic/eu-west-1/us-east-1}"
preflight_expect "preflight: a topic in another region is refused" fail "the topic is in us-east-1, the environment in eu-west-1"
# The apply below notifies this topic.
topic_tfvars "$topic"

# Custom domains: the preflight wants the certificate issued in the region and covering the domain. moto
# cannot create API Gateway domain names (it reports no status, and the provider waits for AVAILABLE), so
# the domains and their API mappings are covered by terraform test (booking-chat, api-domain, envs/dev).
domain_tfvars() { printf 'websocket_domain_name = "%s"\nwebsocket_certificate_arn = "%s"\n' "$1" "$2" >"$work/envs/dev/domain.auto.tfvars"; }
pending=$(aws acm request-certificate --domain-name chat.booking.internal --validation-method DNS --query CertificateArn --output text)
domain_tfvars chat.booking.internal "$pending"
preflight_expect "preflight: a certificate still pending validation is refused" fail \
  "is PENDING_VALIDATION, not ISSUED" "aws acm request-certificate --region eu-west-1 --domain-name chat.booking.internal"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
  -subj "/CN=*.booking.internal" -addext "subjectAltName=DNS:*.booking.internal" 2>/dev/null
issued=$(aws acm import-certificate --certificate "fileb://$work/cert.pem" --private-key "fileb://$work/key.pem" \
  --query CertificateArn --output text)
domain_tfvars chat.booking.internal "$issued"
preflight_expect "preflight: an issued certificate covering the domain passes" pass \
  "ok    WebSocket domain: chat.booking.internal: certificate issued in eu-west-1"
domain_tfvars chat.other.internal "$issued"
preflight_expect "preflight: a certificate for another name is refused" fail "covers *.booking.internal, not chat.other.internal"
domain_tfvars chat.booking.internal "${issued%/*}/0a1b2c3d-0000-4000-8000-000000000000"
preflight_expect "preflight: a certificate that does not exist in the region is refused" fail "does not exist in eu-west-1"
rm "$work/envs/dev/domain.auto.tfvars"

echo 'execution_logging_level = "OFF"' >"$work/envs/dev/logging.auto.tfvars"
TF_VAR_access_logging=false preflight_expect "preflight: with logging off, the account's logging role is not needed" pass \
  "skip  API Gateway logging role"
rm "$work/envs/dev/logging.auto.tfvars"

# The quota check, against a wrapper that answers GetAccountSettings (moto has none) and passes every
# other call to the real CLI.
mkdir -p "$work/bin"
real_aws=$(command -v aws)
cat >"$work/bin/aws" <<SH
#!/usr/bin/env bash
if [ "\$1 \$2" = "lambda get-account-settings" ]; then cat "$work/account-settings.json"; exit 0; fi
exec "$real_aws" "\$@"
SH
chmod +x "$work/bin/aws"
settings() { printf '{"AccountLimit": {"ConcurrentExecutions": %s, "UnreservedConcurrentExecutions": %s}}\n' "$1" "$2" >"$work/account-settings.json"; }
saved_path=$PATH
export PATH="$work/bin:$PATH" TF_VAR_lambda_reserved_concurrency=50
settings 10 10
preflight_expect "preflight: a new account's quota of 10 leaves nothing to reserve" fail \
  "reserving 50 would leave -40 of the account's 10 unreserved" "remove lambda_reserved_concurrency" "--quota-code L-B99A9384"
settings 120 120
preflight_expect "preflight: a reservation leaving fewer than 100 unreserved is refused, naming the most that fits" fail \
  "lambda_reserved_concurrency = 20 or less"
settings 1000 1000
preflight_expect "preflight: a reservation the quota holds passes" pass "reserving 50 leaves 950 of 1000 unreserved" \
  "ok    concurrency quota: 1000 concurrent executions in eu-west-1: about 13,333 messages a second"
PREFLIGHT_SKIP=concurrency preflight_expect "preflight: PREFLIGHT_SKIP=concurrency skips only that check, and says so" pass \
  "skip  concurrency: PREFLIGHT_SKIP=concurrency"
PREFLIGHT_SKIP=secrets preflight_expect "preflight: no other check can be skipped" usage "PREFLIGHT_SKIP may name only concurrency"
unset TF_VAR_lambda_reserved_concurrency
# The quota itself, reserved or not: a frame holds two executions (docs/cost.md, Scale).
settings 10 10
preflight_expect "preflight: a new account's quota of 10 is a warning in dev, with the request to make" pass \
  "warn  concurrency quota: the account's quota is 10 concurrent executions in eu-west-1: about 133 messages a second" \
  "--quota-code L-B99A9384 --desired-value 1000"
PREFLIGHT_ENV=staging preflight_expect "preflight: a quota of 10 is refused outside dev" fail \
  "FAIL  concurrency quota: the account's quota is 10 concurrent executions in eu-west-1" "below the 100 staging needs"
export PATH=$saved_path

# Secrets Manager instead of SSM. A partial ARN (without the six characters Secrets Manager appends) is
# refused by its shape, unless the name itself ends in '-' and six characters: then only AWS can tell.
full=$(aws secretsmanager create-secret --name booking-chat/dev/proxy --secret-string moto --query ARN --output text)
secret_tfvars() { printf 'proxy_secret_ssm_parameter_name  = null\nproxy_secret_secrets_manager_arn = "%s"\n' "$1" >"$work/envs/dev/secret.auto.tfvars"; }
secret_tfvars "$full"
preflight_expect "preflight: a complete Secrets Manager ARN passes" pass "ok    proxy secret: Secrets Manager $full"
secret_tfvars "${full%-*}"
preflight_expect "preflight: a partial Secrets Manager ARN is refused" fail "is not a complete Secrets Manager ARN" "describe-secret"
lookalike=$(aws secretsmanager create-secret --name booking-chat/dev/proxy-secret --secret-string moto --query ARN --output text)
secret_tfvars "${lookalike%-*}"
preflight_expect "preflight: a partial ARN that looks complete is refused, naming the real ARN" fail \
  "is a partial ARN: the secret's ARN is $lookalike"
secret_tfvars "${full/eu-west-1/us-east-1}"
preflight_expect "preflight: a secret in another region is refused" fail "the secret is in us-east-1, the environment in eu-west-1"
rm "$work/envs/dev/secret.auto.tfvars"

# Attachments, on in every environment: the browsers' origins that upload to the bucket (outside dev, some),
# the media processor's zip when it is built (Lambda takes 50 MB zipped, 250 MB unpacked), a key that is
# enabled when one is named.
TF_VAR_media_package_path="$work/media-bootstrap.zip" preflight_expect "preflight: a built media zip is measured against Lambda's limits" pass \
  "ok    media package: $work/media-bootstrap.zip, 0.00 MB zipped, 0.0 MB unpacked (Lambda takes 50 MB and 250 MB)"
python3 - "$work/huge-media.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w") as out:
        for _ in range(260):
            out.write(bytes(1 << 20))
PY
TF_VAR_media_package_path="$work/huge-media.zip" preflight_expect "preflight: a media zip Lambda would refuse (over 250 MB unpacked) is refused" fail \
  "Lambda takes at most 50 MB zipped (uploaded with the function) and 250 MB unpacked"
rm "$work/huge-media.zip"
PREFLIGHT_ENV=staging TF_VAR_cors_allowed_origins='[]' preflight_expect "preflight: attachments outside dev without browser origins are refused" fail \
  "FAIL  attachments: no browser origin may upload to the bucket (cors_allowed_origins is empty): the widget cannot attach files" \
  "or attachments = { allowed_origins = [...] }, or remove attachments."
attachments_tfvars() { printf 'attachments = {\n  maximum_concurrency = 2\n  %s\n}\n' "$1" >"$work/envs/dev/zz-attachments.auto.tfvars"; }
attachments_tfvars 'allowed_origins = ["https://chat.example.com"]'
preflight_expect "preflight: a placeholder among the bucket's own origins is refused" fail \
  "FAIL  attachments: attachments.allowed_origins has origins browsers never send, or placeholders: https://chat.example.com"
TF_VAR_backend_url=https://chat-backend.internal preflight_expect "preflight: attachments beside a backend elsewhere are refused" fail \
  "FAIL  attachments: attachments need the backend function"
attachments_key=$(aws kms create-key --query KeyMetadata.Arn --output text)
attachments_tfvars "kms_key_arn = \"$attachments_key\""
preflight_expect "preflight: an enabled key for the bucket passes" pass "ok    attachments key: $attachments_key, enabled in eu-west-1"
# (moto looks a key up by its id only here, not by its ARN.)
aws kms disable-key --key-id "${attachments_key##*/}"
preflight_expect "preflight: a disabled key for the bucket is refused" fail "FAIL  attachments key: $attachments_key is Disabled"
rm "$work/envs/dev/zz-attachments.auto.tfvars"

# Retention, on in every environment (dev: 30 days): whole days from 1 to 3650, longer than the chat's
# read-only delay (the job's configuration refuses to start otherwise), only with the backend function.
retention_tfvars() { printf '%s\n' "$@" >"$work/envs/dev/zz-retention.auto.tfvars"; }
retention_tfvars 'message_retention_days = 0'
preflight_expect "preflight: a retention of 0 days is refused" fail \
  "FAIL  retention: message_retention_days = 0 is not a whole number of days from 1 to 3650"
retention_tfvars 'chat_rules = { read_only_after_seconds = 2592000 }'
preflight_expect "preflight: a retention no longer than the chat's read-only delay is refused, naming the least that is" fail \
  "FAIL  retention: message_retention_days = 30 is not longer than the chat's read-only delay (chat_rules.read_only_after_seconds = 2592000 s, 30 days)" \
  "message_retention_days = 31 or more"
retention_tfvars 'message_retention_days = null'
preflight_expect "preflight: retention off passes" pass "ok    retention: off (no retention job"
rm "$work/envs/dev/zz-retention.auto.tfvars"
TF_VAR_backend_url=https://chat-backend.internal preflight_expect "preflight: retention beside a backend elsewhere is refused" fail \
  "FAIL  retention: the retention job is the backend function's, and backend_url runs the backend (and its store) elsewhere"

# Email notifications: the link secret, and the SES identity the notifier sends as, existing and verified
# for sending in the region; the configuration set it names; an account in the SES sandbox is a warning.
notifications_tfvars() {
  printf 'notifications = {\n  email_from   = "Booking chat <chat@booking.internal>"\n  booking_url  = "https://app.booking.internal/bookings/{booking_id}/chat"\n  ses_identity = "booking.internal"%s\n}\nnotify_link_secret_ssm_parameter_name = "/booking-chat/dev/notify-link-secret"\n' \
    "${1:-}" >"$work/envs/dev/notifications.auto.tfvars"
}
preflight_expect "preflight: notifications off by default" pass "ok    notifications: off (no notifier)"
notifications_tfvars
preflight_expect "preflight: notifications without their link secret and SES identity fail, each with its fix" fail \
  "SSM parameter /booking-chat/dev/notify-link-secret does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/notify-link-secret --type SecureString" \
  "FAIL  SES identity: booking.internal is not an SES identity in eu-west-1" \
  "aws sesv2 create-email-identity --region eu-west-1 --email-identity booking.internal"
TF_VAR_chat_events=false preflight_expect "preflight: notifications without chat events are refused" fail \
  "notifications need chat_events = true and the backend function"
aws ssm put-parameter --name /booking-chat/dev/notify-link-secret --value moto-link-secret --type SecureString >/dev/null
aws sesv2 create-email-identity --email-identity booking.internal >/dev/null
preflight_expect "preflight: an SES identity not verified for sending is refused, saying how to verify it" fail \
  "booking.internal is not verified for sending in eu-west-1" "._domainkey.booking.internal"
# moto never verifies an identity and has no GetAccount: a wrapper answers both from files (as the quota's
# does) and passes every other call to the real CLI.
mkdir -p "$work/ses-bin"
cat >"$work/ses-bin/aws" <<SH
#!/usr/bin/env bash
if [ "\$1 \$2" = "sesv2 get-account" ]; then cat "$work/ses-account.json"; exit 0; fi
if [ "\$1 \$2" = "sesv2 get-email-identity" ]; then
  "$(command -v aws)" "\$@" | sed 's/"VerifiedForSendingStatus": false/"VerifiedForSendingStatus": true/'; exit "\${PIPESTATUS[0]}"
fi
exec "$(command -v aws)" "\$@"
SH
chmod +x "$work/ses-bin/aws"
ses_account() { printf '{"SendingEnabled": %s, "ProductionAccessEnabled": %s, "SendQuota": {"Max24HourSend": %s, "MaxSendRate": %s}}\n' "$@" >"$work/ses-account.json"; }
saved_path=$PATH
export PATH="$work/ses-bin:$PATH"
ses_account true false 200.0 1.0
preflight_expect "preflight: a verified identity passes; an account in the SES sandbox is a warning, not a failure" pass \
  "ok    notify link secret: SSM SecureString /booking-chat/dev/notify-link-secret" \
  "ok    SES identity: booking.internal verified for sending in eu-west-1, From Booking chat <chat@booking.internal>" \
  "warn  SES account: the account is in the SES sandbox in eu-west-1 (200 emails a day, 1 a second): only verified addresses receive the notifications" \
  "aws sesv2 put-account-details --region eu-west-1 --production-access-enabled"
ses_account true true 50000.0 14.0
preflight_expect "preflight: with production access the account passes" pass "ok    SES account: production access in eu-west-1 (50000 emails a day, 14 a second)"
ses_account false true 50000.0 14.0
preflight_expect "preflight: an account whose sending is paused is refused" fail "FAIL  SES account: sending is paused for this account in eu-west-1"
ses_account true true 50000.0 14.0
notifications_tfvars $'\n  configuration_set = "booking-chat-dev"'
preflight_expect "preflight: a configuration set that does not exist is refused" fail \
  "FAIL  SES configuration set: booking-chat-dev does not exist in eu-west-1" \
  "aws sesv2 create-configuration-set --region eu-west-1 --configuration-set-name booking-chat-dev"
aws sesv2 create-configuration-set --configuration-set-name booking-chat-dev >/dev/null
preflight_expect "preflight: an existing configuration set passes" pass "ok    SES configuration set: booking-chat-dev in eu-west-1"

# Web Push: the VAPID private key's secret must exist, the public key be a P-256 point; push services' hosts
# that leave the browsers' own out are a warning. (A test key pair: its private half is only ever in moto.)
vapid_public=BOiBaHArrndhUg0um_05T2Gaq-hhE2grXrl7_5SpLZgLIY7toVas4gGQDox-K_VpgD4h4ZbfBH7AdNygpubdsPs
vapid_private=cbz18L_Bd51SmgpHlwaPYq88vEt7zSEuTely2ay9HcA
web_push_tfvars() {
  printf 'web_push = {\n  public_key = "%s"\n  subject    = "mailto:ops@booking.internal"%s\n}\nvapid_private_key_ssm_parameter_name = "/booking-chat/dev/vapid-private-key"\n' \
    "$1" "${2:-}" >"$work/envs/dev/web-push.auto.tfvars"
}
preflight_expect "preflight: Web Push off by default" pass "ok    Web Push: off"
web_push_tfvars "$vapid_public"
preflight_expect "preflight: Web Push without its private key's secret fails, saying how to create it" fail \
  "ok    Web Push: public key a P-256 point, subject mailto:ops@booking.internal, the browsers' push services" \
  "FAIL  VAPID private key: SSM parameter /booking-chat/dev/vapid-private-key does not exist in eu-west-1" \
  "aws ssm put-parameter --region eu-west-1 --name /booking-chat/dev/vapid-private-key --type SecureString" \
  "npx web-push generate-vapid-keys"
aws ssm put-parameter --name /booking-chat/dev/vapid-private-key --value "$vapid_private" --type SecureString >/dev/null
preflight_expect "preflight: Web Push with its private key's secret passes" pass \
  "ok    VAPID private key: SSM SecureString /booking-chat/dev/vapid-private-key"
# One character changed: still Terraform's shape (87 base64url characters from B), no longer a point.
web_push_tfvars "${vapid_public:0:40}x${vapid_public:41}"
preflight_expect "preflight: a mistyped public key is refused: it is not on the curve" fail \
  "FAIL  Web Push: web_push.public_key is not a VAPID public key: it is not a point of the P-256 curve" \
  "openssl ecparam -name prime256v1 -genkey -noout -out vapid.pem"
web_push_tfvars "$vapid_public" $'\n  endpoint_hosts = ["fcm.googleapis.com", "push.booking.test"]'
preflight_expect "preflight: push services' hosts that are placeholders or leave browsers out are warnings" pass \
  "warn  Web Push: web_push.endpoint_hosts names hosts no push service answers https on: push.booking.test" \
  "leaves out updates.push.services.mozilla.com (Firefox), push.apple.com (Safari), notify.windows.com (Edge on Windows)"
rm "$work/envs/dev/web-push.auto.tfvars"
export PATH=$saved_path
rm "$work/envs/dev/notifications.auto.tfvars"

# --- envs/dev: apply, an empty second plan, destroy ----------------------------------------------------
cd "$work/envs/dev"
tf init >/dev/null
started=$(date +%s)
vars=(-var "lambda_package_path=$work/bootstrap.zip" -var "backend_package_path=$work/backend-bootstrap.zip"
  -var "notifier_package_path=$work/notifier-bootstrap.zip" -var "media_package_path=$work/media-bootstrap.zip")
# Email notifications are off by default; on here (the identity, its configuration set and the link secret
# exist since the preflight's checks), so that their queues, rule, function and mapping are applied too.
notifications_tfvars $'\n  configuration_set = "booking-chat-dev"'
# Web Push too, with push services of its own beside the browsers' (the private key's parameter exists).
web_push_tfvars "$vapid_public" $'\n  endpoint_hosts = ["fcm.googleapis.com", "updates.push.services.mozilla.com", "push.apple.com", "notify.windows.com", "push.booking.net"]'
# The chat events' archive is off by default; on here, so that it is applied and planned again too.
echo 'chat_events_archive_retention_days = 7' >"$work/envs/dev/archive.auto.tfvars"
tf apply -auto-approve "${vars[@]}" | tail -n 12
ok "envs/dev applies"
set +e
tf plan -detailed-exitcode "${vars[@]}" >"$work/second-plan.txt"
second=$?
set -e
if [ "$second" -ne 0 ]; then
  grep -E "^  [#~+-]|^      [~+-]" "$work/second-plan.txt" >"$work/out" || cp "$work/second-plan.txt" "$work/out"
  not_ok "the second plan shows no changes (exit $second)"
  exit 1
fi
ok "the second plan shows no changes"
execution_group=$(aws logs describe-log-groups --log-group-name-prefix API-Gateway-Execution-Logs_ \
  --query 'logGroups[0].[logGroupName, retentionInDays]' --output text)
if [[ "$execution_group" == API-Gateway-Execution-Logs_*"/dev"*7 ]]; then
  ok "the execution log group exists with dev's retention"
else
  echo "$execution_group" >"$work/out"; not_ok "the execution log group exists with dev's retention"
fi
# The $connect authorizer as applied: the function's alias, no identity sources, on $connect only, and
# allowed to invoke the alias from this authorizer only.
tab=$'\t'
api_id=$(aws apigatewayv2 get-apis --query "Items[?Name=='booking-chat-dev'].ApiId | [0]" --output text)
# (moto has no GetAuthorizers: the authorizer is found through the $connect route.)
aws apigatewayv2 get-routes --api-id "$api_id" --output text \
  --query 'Items[*].[RouteKey, AuthorizationType, AuthorizerId]' >"$work/routes" || true
authorizer_id=$(awk -F "$tab" '$1 == "$connect" { print $3 }' "$work/routes")
aws apigatewayv2 get-authorizer --api-id "$api_id" --authorizer-id "$authorizer_id" --output text \
  --query '[AuthorizerType, AuthorizerUri, length(IdentitySource || `[]`)]' >"$work/authorizer" 2>&1 || true
aws lambda get-policy --function-name booking-chat-dev-proxy --qualifier live --query Policy --output text >"$work/policy" || true
name="the \$connect authorizer is the function's alias with no identity sources, on \$connect only, allowed to invoke it"
if [[ "$(cat "$work/authorizer")" == "REQUEST$tab"*":function:booking-chat-dev-proxy:live/invocations${tab}0" ]] \
  && grep -qxF "\$connect${tab}CUSTOM${tab}$authorizer_id" "$work/routes" \
  && grep -qxF "\$default${tab}NONE${tab}None" "$work/routes" && grep -qxF "\$disconnect${tab}NONE${tab}None" "$work/routes" \
  && grep -qF ":$api_id/authorizers/$authorizer_id\"" "$work/policy" && grep -qF ":$api_id/dev/*\"" "$work/policy"; then
  ok "$name"
else
  cat "$work/authorizer" "$work/routes" "$work/policy" >"$work/out"
  not_ok "$name"
fi
# The proxy reaches the backend by invoking its alias with IAM, and may invoke nothing else.
backend_alias_arn=$(aws lambda get-alias --function-name booking-chat-dev-backend --name live --query AliasArn --output text)
aws lambda get-function-configuration --function-name booking-chat-dev-proxy:live \
  --query 'Environment.Variables' --output json >"$work/proxy-env.json"
aws iam get-role-policy --role-name booking-chat-dev-proxy-role --policy-name booking-chat-dev-proxy-least-privilege \
  --query PolicyDocument --output json >"$work/proxy-policy.json"
name="the proxy invokes the backend function's alias (BACKEND_FUNCTION, lambda:InvokeFunction on that ARN only), no BACKEND_URL"
if python3 - "$work/proxy-env.json" "$work/proxy-policy.json" "$backend_alias_arn" <<'PY'
import json, sys, urllib.parse
env = json.load(open(sys.argv[1]))
policy = json.load(open(sys.argv[2]))
if isinstance(policy, str):  # IAM returns the document URL-encoded; the CLI may leave it so
    policy = json.loads(urllib.parse.unquote(policy))
alias = sys.argv[3]
invoke = [s for s in policy["Statement"] if any(a.startswith("lambda:") for a in s["Action"])]
assert alias.endswith(":function:booking-chat-dev-backend:live"), alias
assert env.get("BACKEND_FUNCTION") == alias and "BACKEND_URL" not in env, env
assert [(s["Action"], s["Resource"]) for s in invoke] == [(["lambda:InvokeFunction"], [alias])], invoke
PY
then ok "$name"; else cp "$work/proxy-env.json" "$work/out"; cat "$work/proxy-policy.json" >>"$work/out"; not_ok "$name"; fi

# The backend function as applied: its alias, its environment (secrets by name), its role's DynamoDB and
# EventBridge actions.
bus_arn=$(aws events describe-event-bus --name booking-chat-dev --query Arn --output text || true)
aws lambda get-function-configuration --function-name booking-chat-dev-backend:live \
  --query '[Runtime, Handler, Architectures[0], Environment.Variables]' --output json >"$work/backend.json"
aws iam get-role-policy --role-name booking-chat-dev-backend-role --policy-name booking-chat-dev-backend-least-privilege \
  --query PolicyDocument --output json >"$work/backend-policy.json"
name="the backend function: provided.al2023 arm64 behind live, the contract's environment, its DynamoDB actions, PutEvents on its bus only"
if python3 - "$work/backend.json" "$work/backend-policy.json" "$bus_arn" <<'PY'
import json, sys, urllib.parse
runtime, handler, arch, env = json.load(open(sys.argv[1]))
policy = json.load(open(sys.argv[2]))
if isinstance(policy, str):
    policy = json.loads(urllib.parse.unquote(policy))
assert (runtime, handler, arch) == ("provided.al2023", "bootstrap", "arm64"), (runtime, handler, arch)
want = {
    "APP_ENV": "dev", "LOG_FORMAT": "json", "CHAT_STORE": "dynamodb", "CHAT_TABLE": "booking-chat-dev-chat",
    "CONNECTIONS_TABLE": "booking-chat-dev-connections", "METRICS_NAMESPACE": "BookingChat", "STAGE": "dev",
    "AWS_TIMEOUT_MS": "3000", "EVENT_BUS_NAME": "booking-chat-dev",
    "JWT_SECRET_SSM_PARAMETER": "/booking-chat/dev/jwt-secret",
    "PROXY_SECRET_SSM_PARAMETER": "/booking-chat/dev/proxy-secret",
    "SERVICE_TOKEN_SSM_PARAMETER": "/booking-chat/dev/service-token",
}
for key, value in want.items():
    assert env.get(key) == value, (key, env.get(key))
assert env["MANAGEMENT_ENDPOINT"].startswith("https://") and env["MANAGEMENT_ENDPOINT"].endswith("/dev"), env
assert not any(k in env for k in ("JWT_SECRET", "PROXY_SECRET", "SERVICE_TOKEN", "DATABASE_URL")), "a secret's value"
actions = {(a, tuple(s["Resource"])) for s in policy["Statement"] for a in s["Action"] if a.startswith("dynamodb:")}
tables = {a for a, r in actions if any(x.endswith(":table/booking-chat-dev-chat") for x in r)}
assert tables == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"}, tables
index = {a for a, r in actions if any(x.endswith(":table/booking-chat-dev-chat/index/gsi1") for x in r)}
assert index == {"dynamodb:Query"}, index
connections = {a for a, r in actions if any(x.endswith(":table/booking-chat-dev-connections") for x in r)}
assert connections == {"dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem"}, connections
bus = sys.argv[3]
assert bus == "arn:aws:events:eu-west-1:123456789012:event-bus/booking-chat-dev", bus
events = [(s["Action"], s["Resource"]) for s in policy["Statement"] if any(a.startswith("events:") for a in s["Action"])]
assert events == [(["events:PutEvents"], [bus])], events
assert not any(bus in s["Resource"] for s in policy["Statement"] if s["Action"] != ["events:PutEvents"]), policy
PY
then ok "$name"; else cat "$work/backend.json" "$work/backend-policy.json" >"$work/out"; not_ok "$name"; fi

# Both functions fan out (the proxy the chat, the backend its status pushes), so both may post to and close
# connections: PostToConnection and DeleteConnection, on this API's dev stage and nothing else.
name="both roles: execute-api:ManageConnections on POST and DELETE @connections of the dev stage, nothing else"
if python3 - "$work/proxy-policy.json" "$work/backend-policy.json" "$api_id" <<'PY'
import json, sys, urllib.parse
api_id = sys.argv[3]
for path in sys.argv[1:3]:
    policy = json.load(open(path))
    if isinstance(policy, str):
        policy = json.loads(urllib.parse.unquote(policy))
    manage = [s for s in policy["Statement"] if any(a.startswith("execute-api:") for a in s["Action"])]
    assert [s["Action"] for s in manage] == [["execute-api:ManageConnections"]], (path, manage)
    resources = manage[0]["Resource"]
    assert [r.split(":", 5)[5] for r in resources] == [f"{api_id}/dev/POST/@connections/*", f"{api_id}/dev/DELETE/@connections/*"], (path, resources)
    assert all(r.startswith("arn:aws:execute-api:eu-west-1:123456789012:") for r in resources), (path, resources)
PY
then ok "$name"; else cat "$work/proxy-policy.json" "$work/backend-policy.json" >"$work/out"; not_ok "$name"; fi

# Every alarm of the environment tells the topic, when it fires and when it clears.
aws cloudwatch describe-alarms --alarm-name-prefix booking-chat-dev- --output json >"$work/alarms.json"
name="every alarm of the environment notifies the alarm topic"
if python3 - "$work/alarms.json" "$topic" <<'PY'
import json, sys
alarms = json.load(open(sys.argv[1]))["MetricAlarms"]
names = sorted(a["AlarmName"] for a in alarms)
assert names == sorted([
    "booking-chat-dev-proxy-errors", "booking-chat-dev-proxy-throttles", "booking-chat-dev-proxy-duration",
    "booking-chat-dev-backend-errors", "booking-chat-dev-backend-throttles", "booking-chat-dev-backend-duration",
    "booking-chat-dev-fanout-failed", "booking-chat-dev-dev-execution-errors", "booking-chat-dev-http-5xx",
    "booking-chat-dev-connections-throttled", "booking-chat-dev-chat-throttled", "booking-chat-dev-events-failed",
    "booking-chat-dev-notifier-errors", "booking-chat-dev-notifications-failed",
    "booking-chat-dev-notifications-dead-letters", "booking-chat-dev-notifications-queue-age",
    "booking-chat-dev-push-failed", "booking-chat-dev-push-unauthorized",
    "booking-chat-dev-media-errors", "booking-chat-dev-media-throttles",
    "booking-chat-dev-media-dead-letters", "booking-chat-dev-media-queue-age",
    "booking-chat-dev-retention-errors", "booking-chat-dev-retention-dead-letters", "booking-chat-dev-retention-stalled",
]), names
for alarm in alarms:
    assert alarm["AlarmActions"] == [sys.argv[2]] and alarm["OKActions"] == [sys.argv[2]], alarm
fanout = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-fanout-failed")
assert (fanout["Namespace"], fanout["MetricName"], fanout["Dimensions"]) == ("BookingChat", "FanoutFailed", [{"Name": "Stage", "Value": "dev"}]), fanout
events = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-events-failed")
assert (events["Namespace"], events["MetricName"], events["Dimensions"], events["Statistic"], events["Period"], events["Threshold"], events["ComparisonOperator"]) == (
    "BookingChat", "EventsFailed", [{"Name": "Stage", "Value": "dev"}], "Sum", 300, 0.0, "GreaterThanThreshold"), events
age = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-notifications-queue-age")
assert (age["Namespace"], age["MetricName"], age["Dimensions"], age["Statistic"], age["Threshold"]) == (
    "AWS/SQS", "ApproximateAgeOfOldestMessage", [{"Name": "QueueName", "Value": "booking-chat-dev-notifications"}], "Maximum", 1080.0), age
dead = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-notifications-dead-letters")
assert (dead["MetricName"], dead["Dimensions"]) == ("ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": "booking-chat-dev-notifications-dlq"}]), dead
push = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-push-failed")
assert (push["Namespace"], push["MetricName"], push["Dimensions"], push["Statistic"], push["Period"], push["EvaluationPeriods"], push["Threshold"]) == (
    "BookingChat", "PushFailed", [{"Name": "Stage", "Value": "dev"}], "Sum", 900, 1, 20.0), push
media_age = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-media-queue-age")
assert (media_age["Namespace"], media_age["MetricName"], media_age["Dimensions"], media_age["Statistic"], media_age["Threshold"]) == (
    "AWS/SQS", "ApproximateAgeOfOldestMessage", [{"Name": "QueueName", "Value": "booking-chat-dev-media"}], "Maximum", 300.0), media_age
media_dead = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-media-dead-letters")
assert (media_dead["MetricName"], media_dead["Dimensions"]) == ("ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": "booking-chat-dev-media-dlq"}]), media_dead
media_errors = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-media-errors")
assert (media_errors["Namespace"], media_errors["MetricName"], media_errors["Dimensions"]) == (
    "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": "booking-chat-dev-media"}]), media_errors
retention_errors = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-retention-errors")
assert (retention_errors["Namespace"], retention_errors["MetricName"], retention_errors["Dimensions"], retention_errors["Threshold"]) == (
    "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": "booking-chat-dev-retention"}], 0.0), retention_errors
retention_dead = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-retention-dead-letters")
assert (retention_dead["MetricName"], retention_dead["Dimensions"]) == (
    "ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": "booking-chat-dev-retention-dlq"}]), retention_dead
stalled = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-retention-stalled")
assert (stalled["ComparisonOperator"], stalled["Threshold"], stalled["EvaluationPeriods"], stalled["TreatMissingData"]) == (
    "LessThanThreshold", 1.0, 1, "breaching"), stalled
queries = {m["Id"]: m for m in stalled["Metrics"]}
assert queries["passes"]["Expression"] == "FILL(invocations, 0) - FILL(errors, 0)" and queries["passes"]["ReturnData"], queries
assert {i: (queries[i]["MetricStat"]["Metric"]["MetricName"], queries[i]["MetricStat"]["Period"], queries[i]["MetricStat"]["Stat"],
            queries[i]["MetricStat"]["Metric"]["Dimensions"]) for i in ("invocations", "errors")} == {
    "invocations": ("Invocations", 10800, "Sum", [{"Name": "FunctionName", "Value": "booking-chat-dev-retention"}]),
    "errors": ("Errors", 10800, "Sum", [{"Name": "FunctionName", "Value": "booking-chat-dev-retention"}])}, queries
refused = next(a for a in alarms if a["AlarmName"] == "booking-chat-dev-push-unauthorized")
assert (refused["Namespace"], refused["MetricName"], refused["Dimensions"], refused["Statistic"], refused["Period"], refused["Threshold"]) == (
    "BookingChat", "PushUnauthorized", [{"Name": "Stage", "Value": "dev"}], "Sum", 300, 0.0), refused
PY
then ok "$name"; else cp "$work/alarms.json" "$work/out"; not_ok "$name"; fi

# The HTTP API as applied: exactly the public routes (no /proxy), one Lambda proxy integration (payload 2.0)
# on the backend's alias, the $default stage deploying itself, CORS for the configured origin, and the
# backend's alias invocable from this API only.
http_id=$(aws apigatewayv2 get-apis --query "Items[?Name=='booking-chat-dev-http'].ApiId | [0]" --output text)
aws apigatewayv2 get-api --api-id "$http_id" --output json >"$work/http-api.json"
aws apigatewayv2 get-routes --api-id "$http_id" --output json >"$work/http-routes.json"
aws apigatewayv2 get-integrations --api-id "$http_id" --output json >"$work/http-integrations.json"
aws apigatewayv2 get-stages --api-id "$http_id" --output json >"$work/http-stages.json"
aws lambda get-policy --function-name booking-chat-dev-backend --qualifier live --query Policy --output text >"$work/backend-resource-policy.json"
name="the HTTP API: the public routes only (no proxy route), payload 2.0 to the backend's alias, \$default auto-deployed, CORS, invoke from this API only"
if python3 - "$work" "$http_id" "$backend_alias_arn" <<'PY'
import json, sys
work, api_id, alias = sys.argv[1:]
load = lambda name: json.load(open(f"{work}/{name}.json"))
api, routes, integrations, stages = load("http-api"), load("http-routes"), load("http-integrations"), load("http-stages")
policy = json.loads(open(f"{work}/backend-resource-policy.json").read())
assert api["ProtocolType"] == "HTTP", api
assert api["CorsConfiguration"]["AllowOrigins"] == ["https://app.booking.internal"], api.get("CorsConfiguration")
assert sorted(r["RouteKey"] for r in routes["Items"]) == sorted([
    "GET /api/chat/bookings/{booking_id}/messages",
    "GET /api/chat/inbox",
    "PATCH /api/bookings/{booking_id}/status",
    "ANY /api/service/{proxy+}",
    "GET /api/chat/notifications",
    "PUT /api/chat/notifications",
    "PUT /api/chat/bookings/{booking_id}/mute",
    "GET /api/chat/notifications/push",
    "POST /api/chat/notifications/push",
    "DELETE /api/chat/notifications/push",
    "GET /api/notifications/unsubscribe",
    "POST /api/notifications/unsubscribe",
    "POST /api/chat/bookings/{booking_id}/attachments",
    "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}",
    "GET /api/chat/bookings/{booking_id}/attachments/{attachment_id}/url",
    "GET /api/openapi.json",
    "GET /healthz",
]), routes
assert not any("/api/chat/ws" in r["RouteKey"] for r in routes["Items"]), routes
(integration,) = integrations["Items"]
assert integration["IntegrationType"] == "AWS_PROXY" and integration["PayloadFormatVersion"] == "2.0", integration
assert integration["IntegrationUri"].endswith(":function:booking-chat-dev-backend:live/invocations") or integration["IntegrationUri"] == alias, integration
assert all(r["Target"] == "integrations/" + integration["IntegrationId"] for r in routes["Items"]), routes
(stage,) = stages["Items"]
assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True, stage
assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 50, stage
(statement,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "apigateway.amazonaws.com"}]
assert statement["Resource"] == alias, statement
assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api_id}/*"), statement
PY
then ok "$name"; else cat "$work/http-routes.json" "$work/http-integrations.json" "$work/http-stages.json" "$work/backend-resource-policy.json" >"$work/out"; not_ok "$name"; fi

# The chat table as applied: keys, gsi1, TTL on ttl, point-in-time recovery, dev's deletion protection.
aws dynamodb describe-table --table-name booking-chat-dev-chat --output json >"$work/chat-table.json"
aws dynamodb describe-time-to-live --table-name booking-chat-dev-chat --output json >"$work/chat-ttl.json"
aws dynamodb describe-continuous-backups --table-name booking-chat-dev-chat --output json >"$work/chat-pitr.json"
name="the chat table: pk/sk, gsi1 (gsi1pk/gsi1sk, ALL), on demand, TTL on ttl, point-in-time recovery, no deletion protection in dev"
if python3 - "$work/chat-table.json" "$work/chat-ttl.json" "$work/chat-pitr.json" <<'PY'
import json, sys
table = json.load(open(sys.argv[1]))["Table"]
ttl = json.load(open(sys.argv[2]))["TimeToLiveDescription"]
pitr = json.load(open(sys.argv[3]))["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")], table["KeySchema"]
(index,) = table["GlobalSecondaryIndexes"]
assert index["IndexName"] == "gsi1" and index["Projection"]["ProjectionType"] == "ALL", index
assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [("gsi1pk", "HASH"), ("gsi1sk", "RANGE")], index
assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", table.get("BillingModeSummary")
assert table.get("DeletionProtectionEnabled") is False, table.get("DeletionProtectionEnabled")
assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}, ttl
assert pitr["PointInTimeRecoveryStatus"] == "ENABLED", pitr
PY
then ok "$name"; else cat "$work/chat-table.json" "$work/chat-ttl.json" "$work/chat-pitr.json" >"$work/out"; not_ok "$name"; fi

# The chat events' bus as applied, and its archive (7 days here), of the chat's events only.
aws events describe-archive --archive-name booking-chat-dev-events --output json >"$work/archive.json" 2>&1 || true
name="the chat events: the bus booking-chat-dev, archived 7 days (source booking-chat) when asked"
if python3 - "$work/archive.json" "$bus_arn" <<'PY'
import json, sys
archive = json.load(open(sys.argv[1]))
assert archive["EventSourceArn"] == sys.argv[2], archive
assert int(archive["RetentionDays"]) == 7 and json.loads(archive["EventPattern"]) == {"source": ["booking-chat"]}, archive
PY
then ok "$name"; else cp "$work/archive.json" "$work/out"; not_ok "$name"; fi

# A rule of the app on the bus, as docs/deploying.md's example: every booking-chat event to an SQS queue.
# (The AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS: its endpoint is given.)
queue_url=$(aws sqs create-queue --endpoint-url "$endpoint" --queue-name booking-chat-dev-app-events --query QueueUrl --output text)
queue_arn=$(aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$queue_url" --attribute-names QueueArn \
  --query Attributes.QueueArn --output text)
aws events put-rule --event-bus-name booking-chat-dev --name app-chat-events \
  --event-pattern '{"source": ["booking-chat"]}' >/dev/null
aws events put-targets --event-bus-name booking-chat-dev --rule app-chat-events --targets "Id=queue,Arn=$queue_arn" >/dev/null
aws events put-events --entries '[{"EventBusName": "booking-chat-dev", "Source": "booking-chat", "DetailType": "message.created",
  "Detail": "{\"version\": 1, \"id\": \"1/message.created/1\", \"booking_id\": 1, \"type\": \"message.created\"}"}]' \
  --query FailedEntryCount --output text >"$work/out"
aws sqs receive-message --endpoint-url "$endpoint" --queue-url "$queue_url" --wait-time-seconds 1 --output json >"$work/received.json" || true
name="a rule of the app on the bus delivers the chat's events to its queue, the detail's id to de-duplicate by"
if python3 - "$work/received.json" <<'PY'
import json, sys
(message,) = json.load(open(sys.argv[1]))["Messages"]
event = json.loads(message["Body"])
assert (event["source"], event["detail-type"]) == ("booking-chat", "message.created"), event
assert event["detail"]["version"] == 1 and event["detail"]["id"] == "1/message.created/1", event
PY
then ok "$name"; else cat "$work/received.json" >>"$work/out"; not_ok "$name"; fi

# Email notifications as applied: the queue (encrypted, redriven to its dead-letter queue after 5 receives,
# a visibility timeout of 6 x the notifier's 20 s) and its dead-letter queue, both sent to by this rule only;
# the rule on the bus (message.created of booking-chat) with the queue as target and the dead-letter queue
# behind it; the mapping (batches of 10, failed items reported, at most 2 at once) on the notifier's alias;
# the notifier's environment and role; the backend checking the same link secret. The message the app's
# rule delivered above reached this queue too.
notify_url=$(aws sqs get-queue-url --endpoint-url "$endpoint" --queue-name booking-chat-dev-notifications --query QueueUrl --output text)
dead_url=$(aws sqs get-queue-url --endpoint-url "$endpoint" --queue-name booking-chat-dev-notifications-dlq --query QueueUrl --output text)
aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$notify_url" --attribute-names All --output json >"$work/notify-queue.json"
aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$dead_url" --attribute-names All --output json >"$work/notify-dlq.json"
aws events describe-rule --event-bus-name booking-chat-dev --name booking-chat-dev-notifications --output json >"$work/notify-rule.json"
aws events list-targets-by-rule --event-bus-name booking-chat-dev --rule booking-chat-dev-notifications --output json >"$work/notify-targets.json"
notify_arn=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Attributes"]["QueueArn"])' "$work/notify-queue.json")
aws lambda list-event-source-mappings --event-source-arn "$notify_arn" --output json >"$work/notify-esm.json"
aws lambda get-function-configuration --function-name booking-chat-dev-notifier:live \
  --query '[Runtime, Architectures[0], Timeout, Environment.Variables]' --output json >"$work/notifier.json"
aws iam get-role-policy --role-name booking-chat-dev-notifier-role --policy-name booking-chat-dev-notifier-least-privilege \
  --query PolicyDocument --output json >"$work/notifier-policy.json"
aws sqs receive-message --endpoint-url "$endpoint" --queue-url "$notify_url" --wait-time-seconds 1 --output json >"$work/notify-received.json" || true
name="email notifications: both queues, the rule and its target, the mapping, the notifier's environment and role, a new message in the queue"
notifier_alias=$(aws lambda get-alias --function-name booking-chat-dev-notifier --name live --query '[FunctionVersion, AliasArn]' --output text)
if python3 - "$work" "$notify_url" $notifier_alias <<'PY'
import json, sys, urllib.parse
work, notify_url, alias_version, alias_arn = sys.argv[1:]
notifier_arn = alias_arn.rsplit(":", 1)[0]
load = lambda name: json.load(open(f"{work}/{name}.json"))
queue, dead = load("notify-queue")["Attributes"], load("notify-dlq")["Attributes"]
rule, targets, mappings = load("notify-rule"), load("notify-targets")["Targets"], load("notify-esm")["EventSourceMappings"]
runtime, arch, timeout, env = load("notifier")
policy = load("notifier-policy")
if isinstance(policy, str):
    policy = json.loads(urllib.parse.unquote(policy))
queue_arn, dead_arn = queue["QueueArn"], dead["QueueArn"]
assert queue_arn.endswith(":booking-chat-dev-notifications") and dead_arn.endswith(":booking-chat-dev-notifications-dlq"), (queue_arn, dead_arn)
assert queue["SqsManagedSseEnabled"] == "true" and dead["SqsManagedSseEnabled"] == "true", (queue, dead)
assert json.loads(queue["RedrivePolicy"]) == {"deadLetterTargetArn": dead_arn, "maxReceiveCount": 5}, queue["RedrivePolicy"]
assert int(queue["VisibilityTimeout"]) >= 6 * timeout and timeout == 20, (queue["VisibilityTimeout"], timeout)
assert dead["MessageRetentionPeriod"] == "1209600", dead
for attributes, arn in ((queue, queue_arn), (dead, dead_arn)):
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage", statement
    assert statement["Resource"] == arn and statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}, statement
assert json.loads(rule["EventPattern"]) == {"source": ["booking-chat"], "detail-type": ["message.created"]}, rule
(target,) = targets
assert target["Arn"] == queue_arn and target["DeadLetterConfig"]["Arn"] == dead_arn, target
(mapping,) = mappings
# moto names the version the alias points at (AWS, the alias): either is the alias's.
assert mapping["EventSourceArn"] == queue_arn and mapping["FunctionArn"].rsplit(":", 1) in (
    [notifier_arn, "live"], [notifier_arn, alias_version]), (mapping, notifier_arn, alias_version)
assert mapping["BatchSize"] == 10 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], mapping
assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}, mapping
assert (runtime, arch) == ("provided.al2023", "arm64"), (runtime, arch)
want = {
    "APP_ENV": "dev", "LOG_FORMAT": "json", "METRICS_NAMESPACE": "BookingChat", "STAGE": "dev", "AWS_TIMEOUT_MS": "3000",
    "CHAT_STORE": "dynamodb", "CHAT_TABLE": "booking-chat-dev-chat", "NOTIFY_QUEUE_URL": notify_url,
    "NOTIFY_DELAY_SECONDS": "180", "NOTIFY_MIN_INTERVAL_SECONDS": "900", "MAIL_FROM": "Booking chat <chat@booking.internal>",
    "SES_CONFIGURATION_SET": "booking-chat-dev", "APP_BOOKING_URL": "https://app.booking.internal/bookings/{booking_id}/chat",
    "NOTIFY_LINK_SECRET_SSM_PARAMETER": "/booking-chat/dev/notify-link-secret",
    "VAPID_PRIVATE_KEY_SSM_PARAMETER": "/booking-chat/dev/vapid-private-key", "VAPID_SUBJECT": "mailto:ops@booking.internal",
    "PUSH_TTL_SECONDS": "86400",
    "PUSH_ENDPOINT_HOSTS": "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com,push.booking.net",
}
for key, value in want.items():
    assert env.get(key) == value, (key, env.get(key))
assert env["PUBLIC_API_URL"].startswith("https://") or env["PUBLIC_API_URL"].startswith("http"), env["PUBLIC_API_URL"]
assert "NOTIFY_LINK_SECRET" not in env and "VAPID_PRIVATE_KEY" not in env, "a secret's value"
by_sid = {s["Sid"]: s for s in policy["Statement"]}
# It reads the link secret and the VAPID private key, and no other parameter.
assert [r.rsplit(":", 1)[-1] for r in by_sid["SecretParameters"]["Resource"]] == [
    "parameter/booking-chat/dev/notify-link-secret", "parameter/booking-chat/dev/vapid-private-key"], by_sid["SecretParameters"]
assert by_sid["NotificationsQueue"]["Resource"] == [queue_arn], by_sid["NotificationsQueue"]
assert sorted(by_sid["SendEmail"]["Action"]) == ["ses:SendEmail", "ses:SendRawEmail"], by_sid["SendEmail"]
assert by_sid["SendEmail"]["Resource"] == ["arn:aws:ses:eu-west-1:123456789012:identity/booking.internal",
                                           "arn:aws:ses:eu-west-1:123456789012:configuration-set/booking-chat-dev"], by_sid["SendEmail"]
assert [r.rsplit("/", 1)[-1] for r in by_sid["ChatTable"]["Resource"]] == ["booking-chat-dev-chat"], by_sid["ChatTable"]
(message,) = load("notify-received")["Messages"]
event = json.loads(message["Body"])
assert (event["source"], event["detail-type"], event["detail"]["id"]) == ("booking-chat", "message.created", "1/message.created/1"), event
PY
then ok "$name"; else cat "$work"/notify-*.json "$work/notifier.json" "$work/notifier-policy.json" >"$work/out"; not_ok "$name"; fi
backend_link=$(aws lambda get-function-configuration --function-name booking-chat-dev-backend:live \
  --query 'Environment.Variables.NOTIFY_LINK_SECRET_SSM_PARAMETER' --output text)
if [ "$backend_link" = /booking-chat/dev/notify-link-secret ]; then
  ok "the backend function reads the link secret the notifier signs with"
else
  echo "$backend_link" >"$work/out"; not_ok "the backend function reads the link secret the notifier signs with"
fi

# Web Push as applied: the backend gives out the public key and allows the notifier's push services; the
# private key is read by name by the notifier alone, and its value is in neither function's configuration.
aws lambda get-function-configuration --function-name booking-chat-dev-backend:live --output json >"$work/backend-config.json"
aws lambda get-function-configuration --function-name booking-chat-dev-notifier:live --output json >"$work/notifier-config.json"
name="Web Push: the public key and the push services to the backend, the private key by name to the notifier alone, its value nowhere"
if python3 - "$work" "$vapid_public" "$vapid_private" <<'PY'
import json, sys, urllib.parse
work, public, private = sys.argv[1:]
backend, notifier = (json.load(open(f"{work}/{name}-config.json")) for name in ("backend", "notifier"))
env = backend["Environment"]["Variables"]
assert env.get("VAPID_PUBLIC_KEY") == public, env.get("VAPID_PUBLIC_KEY")
# The notifier gets the same public key: it refuses to start when its private key is not the other half.
assert notifier["Environment"]["Variables"].get("VAPID_PUBLIC_KEY") == public, notifier["Environment"]["Variables"]
assert env.get("PUSH_ENDPOINT_HOSTS") == notifier["Environment"]["Variables"]["PUSH_ENDPOINT_HOSTS"], env.get("PUSH_ENDPOINT_HOSTS")
assert not any(key.startswith("VAPID_PRIVATE_KEY") for key in env), "the backend is not told of the private key"
for config in (backend, notifier):
    assert private not in json.dumps(config), f"the private key's value in {config['FunctionName']}'s configuration"
policy = json.load(open(f"{work}/backend-policy.json"))
if isinstance(policy, str):
    policy = json.loads(urllib.parse.unquote(policy))
assert "vapid-private-key" not in json.dumps(policy), "the backend may not read the private key"
PY
then ok "$name"; else cat "$work/backend-config.json" "$work/notifier-config.json" >"$work/out"; not_ok "$name"; fi

# Attachments as applied: the bucket (every public access block, owner enforced, AES256, the policy's two
# denials, the three lifecycle rules, CORS for the web origin, uploads/ notified to the media queue), the
# media queues (encrypted, redriven after 5 receives, S3 sending for this bucket and account only), the
# mapping (one upload an invocation, 2 at once in dev) on the processor's alias, the processor's
# environment and role, the backend's additions; then an upload reaches the queue, and a processed file
# does not.
bucket=$(terraform output -raw attachments_bucket_name)
for what in public-access-block bucket-ownership-controls bucket-encryption bucket-policy bucket-lifecycle-configuration \
  bucket-cors bucket-notification-configuration; do
  aws s3api "get-$what" --bucket "$bucket" --output json >"$work/s3-$what.json" 2>&1 || true
done
media_url=$(aws sqs get-queue-url --endpoint-url "$endpoint" --queue-name booking-chat-dev-media --query QueueUrl --output text)
media_dead_url=$(aws sqs get-queue-url --endpoint-url "$endpoint" --queue-name booking-chat-dev-media-dlq --query QueueUrl --output text)
aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$media_url" --attribute-names All --output json >"$work/media-queue.json"
aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$media_dead_url" --attribute-names All --output json >"$work/media-dlq.json"
media_arn=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Attributes"]["QueueArn"])' "$work/media-queue.json")
aws lambda list-event-source-mappings --event-source-arn "$media_arn" --output json >"$work/media-esm.json"
aws lambda get-function-configuration --function-name booking-chat-dev-media:live --output json >"$work/media-config.json"
aws iam get-role-policy --role-name booking-chat-dev-media-role --policy-name booking-chat-dev-media-least-privilege \
  --query PolicyDocument --output json >"$work/media-policy.json"
media_alias=$(aws lambda get-alias --function-name booking-chat-dev-media --name live --query '[FunctionVersion, AliasArn]' --output text)
http_url=$(terraform output -raw http_api_url)
name="attachments: the bucket private, encrypted, TLS only, its lifecycle, CORS and notification; the media queues, mapping, processor and both roles"
if python3 - "$work" "$bucket" "$http_url" $media_alias <<'PY'
import json, sys, urllib.parse
work, bucket, http_url, alias_version, alias_arn = sys.argv[1:]
function_arn = alias_arn.rsplit(":", 1)[0]
load = lambda name: json.load(open(f"{work}/{name}.json"))
def document(name):
    policy = load(name)
    return json.loads(urllib.parse.unquote(policy)) if isinstance(policy, str) else policy
bucket_arn = f"arn:aws:s3:::{bucket}"
assert bucket == "booking-chat-dev-attachments-123456789012", bucket
assert load("s3-public-access-block")["PublicAccessBlockConfiguration"] == {
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
assert [r["ObjectOwnership"] for r in load("s3-bucket-ownership-controls")["OwnershipControls"]["Rules"]] == ["BucketOwnerEnforced"]
(encryption,) = load("s3-bucket-encryption")["ServerSideEncryptionConfiguration"]["Rules"]
assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", encryption
policy = json.loads(load("s3-bucket-policy")["Policy"])
tls, prefixes = policy["Statement"]
assert (tls["Sid"], tls["Effect"], tls["Action"], tls["Resource"], tls["Condition"]) == (
    "TlsOnly", "Deny", "s3:*", [bucket_arn, bucket_arn + "/*"], {"Bool": {"aws:SecureTransport": "false"}}), tls
assert (prefixes["Sid"], prefixes["Effect"], prefixes["Action"], prefixes["NotResource"]) == (
    "UploadsAndFilesOnly", "Deny", "s3:PutObject", [bucket_arn + "/uploads/*", bucket_arn + "/files/*"]), prefixes
assert not any(s["Effect"] == "Allow" for s in policy["Statement"]), policy
rules = {r["ID"]: r for r in load("s3-bucket-lifecycle-configuration")["Rules"]}
assert set(rules) == {"uploads", "unreferenced-files", "leftovers"} and all(r["Status"] == "Enabled" for r in rules.values()), rules
assert rules["uploads"]["Filter"]["Prefix"] == "uploads/" and rules["uploads"]["Expiration"]["Days"] == 1, rules["uploads"]
unreferenced = rules["unreferenced-files"]
assert unreferenced["Filter"] == {"Tag": {"Key": "state", "Value": "unreferenced"}}, unreferenced
assert unreferenced["Expiration"]["Days"] == 2, unreferenced
assert rules["leftovers"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1, rules["leftovers"]
assert rules["leftovers"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1 and "Expiration" not in rules["leftovers"], rules["leftovers"]
cors = {r["ID"]: r for r in load("s3-bucket-cors")["CORSRules"]}
assert {k: (sorted(r["AllowedMethods"]), r["AllowedOrigins"], r["ExposeHeaders"], r["MaxAgeSeconds"]) for k, r in cors.items()} == {
    "upload": (["POST"], ["https://app.booking.internal"], ["ETag"], 3600),
    "download": (["GET", "HEAD"], ["https://app.booking.internal"], ["ETag"], 3600)}, cors
(notification,) = load("s3-bucket-notification-configuration")["QueueConfigurations"]
queue, dead = load("media-queue")["Attributes"], load("media-dlq")["Attributes"]
assert notification["QueueArn"] == queue["QueueArn"] and notification["Events"] == ["s3:ObjectCreated:*"], notification
assert [(f["Name"].lower(), f["Value"]) for f in notification["Filter"]["Key"]["FilterRules"]] == [("prefix", "uploads/")], notification
assert queue["QueueArn"].endswith(":booking-chat-dev-media") and dead["QueueArn"].endswith(":booking-chat-dev-media-dlq"), (queue, dead)
assert queue["SqsManagedSseEnabled"] == "true" and dead["SqsManagedSseEnabled"] == "true", (queue, dead)
assert json.loads(queue["RedrivePolicy"]) == {"deadLetterTargetArn": dead["QueueArn"], "maxReceiveCount": 5}, queue["RedrivePolicy"]
assert queue["VisibilityTimeout"] == "360" and dead["MessageRetentionPeriod"] == "1209600", (queue, dead)
(statement,) = json.loads(queue["Policy"])["Statement"]
assert (statement["Principal"], statement["Action"], statement["Resource"]) == ({"Service": "s3.amazonaws.com"}, "sqs:SendMessage", queue["QueueArn"]), statement
assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": bucket_arn}, "StringEquals": {"aws:SourceAccount": "123456789012"}}, statement
(mapping,) = load("media-esm")["EventSourceMappings"]
assert mapping["FunctionArn"].rsplit(":", 1) in ([function_arn, "live"], [function_arn, alias_version]), (mapping, function_arn)
assert (mapping["BatchSize"], mapping["FunctionResponseTypes"], mapping["ScalingConfig"]) == (1, ["ReportBatchItemFailures"], {"MaximumConcurrency": 2}), mapping
config = load("media-config")
assert (config["Runtime"], config["Architectures"], config["MemorySize"], config["Timeout"]) == ("provided.al2023", ["arm64"], 1024, 60), config
env = config["Environment"]["Variables"]
assert env == {
    "APP_ENV": "dev", "LOG_FORMAT": "json", "RUST_LOG": "info", "METRICS_NAMESPACE": "BookingChat", "STAGE": "dev",
    "BACKEND_URL": http_url, "FILE_STORE": f"s3://{bucket}", "ATTACHMENTS_MAX_BYTES": "10485760",
    "ATTACHMENTS_TYPES": "image/jpeg,image/png,image/webp,application/pdf",
    "SERVICE_TOKEN_SSM_PARAMETER": "/booking-chat/dev/service-token",
}, env
media = {s["Sid"]: (s["Action"], s["Resource"]) for s in document("media-policy")["Statement"]}
assert media["MediaQueue"] == (["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], [queue["QueueArn"]]), media
assert media["Uploads"] == (["s3:GetObject", "s3:DeleteObject"], [bucket_arn + "/uploads/*"]), media
assert media["Files"] == (["s3:PutObject", "s3:PutObjectTagging"], [bucket_arn + "/files/*"]), media
assert [r.rsplit(":", 1)[-1] for r in media["SecretParameters"][1]] == ["parameter/booking-chat/dev/service-token"], media
backend = json.load(open(f"{work}/backend-config.json"))["Environment"]["Variables"]
assert {k: v for k, v in backend.items() if k == "FILE_STORE" or k.startswith("ATTACHMENTS_")} == {
    "FILE_STORE": f"s3://{bucket}", "ATTACHMENTS_MAX_BYTES": "10485760",
    "ATTACHMENTS_TYPES": "image/jpeg,image/png,image/webp,application/pdf", "ATTACHMENTS_PER_MESSAGE": "10",
    "ATTACHMENTS_UPLOAD_TTL_SECONDS": "300", "ATTACHMENTS_DOWNLOAD_TTL_SECONDS": "300"}, backend
backend_policy = {s["Sid"]: (s["Action"], s["Resource"]) for s in document("backend-policy")["Statement"]}
assert backend_policy["AttachmentUploads"] == (["s3:PutObject", "s3:DeleteObject"], [bucket_arn + "/uploads/*"]), backend_policy
assert backend_policy["AttachmentFiles"] == (["s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging"], [bucket_arn + "/files/*"]), backend_policy
assert media["UploadsGone"] == (["s3:ListBucket"], [bucket_arn]), media
for statements in (media, backend_policy):
    others = {sid: v for sid, v in statements.items() if sid != "UploadsGone"}
    actions = [a for action, _ in others.values() for a in action if a.startswith("s3:")]
    assert "s3:ListBucket" not in actions and not any(bucket_arn in resources for _, resources in others.values()), statements
PY
then ok "$name"; else cat "$work"/s3-*.json "$work"/media-*.json >"$work/out"; not_ok "$name"; fi

# moto enforces the policy's TLS denial (not its NotResource one): over its plain-http endpoint even an
# upload is refused. The policy is set aside for the uploads below, then put back as it was.
printf 'not a photo, an upload all the same\n' >"$work/upload.bin"
if aws s3api put-object --bucket "$bucket" --key uploads/1/att_http --body "$work/upload.bin" >"$work/out" 2>&1; then
  not_ok "the bucket refuses a request without TLS (aws:SecureTransport false), even an upload"
elif grep -q "(403)" "$work/out"; then
  ok "the bucket refuses a request without TLS (aws:SecureTransport false), even an upload"
else
  not_ok "the bucket refuses a request without TLS (aws:SecureTransport false), even an upload"
fi
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Policy"])' "$work/s3-bucket-policy.json" >"$work/bucket-policy.json"
aws s3api delete-bucket-policy --bucket "$bucket"
aws s3api put-object --bucket "$bucket" --key uploads/1/att_moto --body "$work/upload.bin" >/dev/null
aws s3api put-object --bucket "$bucket" --key files/1/att_moto/original --body "$work/upload.bin" --tagging state=unreferenced >/dev/null
aws s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/bucket-policy.json"
aws sqs receive-message --endpoint-url "$endpoint" --queue-url "$media_url" --max-number-of-messages 10 --wait-time-seconds 1 \
  --output json >"$work/media-received.json" || true
name="an object created under uploads/ is an event on the media queue (after S3's one s3:TestEvent), and one under files/ is none"
if python3 - "$work/media-received.json" "$bucket" <<'PY'
import json, sys, urllib.parse
bodies = [json.loads(m["Body"]) for m in json.load(open(sys.argv[1])).get("Messages", [])]
# S3 sends one test event when the notification is put; the processor deletes it (media/src/notification.rs).
assert [b.get("Event") for b in bodies if "Records" not in b] in ([], ["s3:TestEvent"]), bodies
records = [r for b in bodies for r in b.get("Records", [])]
# An event's key is URL-encoded (form encoding: a space is +); moto encodes the slashes too, AWS does not.
keys = [(r["eventName"].split(":")[0], r["s3"]["bucket"]["name"], urllib.parse.unquote_plus(r["s3"]["object"]["key"])) for r in records]
assert keys == [("ObjectCreated", sys.argv[2], "uploads/1/att_moto")], keys
PY
then ok "$name"; else cp "$work/media-received.json" "$work/out"; not_ok "$name"; fi

# The retention job as applied: the backend's zip (the same CodeSha256) as a function of its own, 300 s,
# the backend's memory, its environment and role; no Lambda retry of a failed pass; the schedule in the
# environment's group, every hour, no flexible window, on the job's alias with the scheduler's role, the
# fixed input, 2 retries within an hour and the dead-letter queue; the scheduler's role (trusting the
# scheduler for this account's group only; invoke that alias, send to that queue); the queue (encrypted,
# 14 days, the scheduler's role alone granted). moto never runs the schedule (above).
aws lambda get-function-configuration --function-name booking-chat-dev-retention:live --output json >"$work/retention-config.json"
aws lambda get-alias --function-name booking-chat-dev-retention --name live --output json >"$work/retention-alias.json"
aws lambda get-function-event-invoke-config --function-name booking-chat-dev-retention --qualifier live --output json \
  >"$work/retention-invoke-config.json" 2>&1 || true
aws iam get-role-policy --role-name booking-chat-dev-retention-role --policy-name booking-chat-dev-retention-least-privilege \
  --query PolicyDocument --output json >"$work/retention-policy.json"
aws scheduler get-schedule-group --name booking-chat-dev --output json >"$work/retention-group.json" 2>&1 || true
aws scheduler get-schedule --group-name booking-chat-dev --name booking-chat-dev-retention --output json >"$work/retention-schedule.json" 2>&1 || true
aws iam get-role --role-name booking-chat-dev-retention-scheduler --query Role.AssumeRolePolicyDocument --output json >"$work/scheduler-trust.json"
aws iam get-role-policy --role-name booking-chat-dev-retention-scheduler --policy-name booking-chat-dev-retention-scheduler-least-privilege \
  --query PolicyDocument --output json >"$work/scheduler-policy.json"
retention_dlq_url=$(aws sqs get-queue-url --endpoint-url "$endpoint" --queue-name booking-chat-dev-retention-dlq --query QueueUrl --output text)
aws sqs get-queue-attributes --endpoint-url "$endpoint" --queue-url "$retention_dlq_url" --attribute-names All --output json >"$work/retention-dlq.json"
name="the retention job: the backend's zip as its own function, its environment and role, no Lambda retry; the hourly schedule, its role and dead-letter queue"
if python3 - "$work" "$bucket" "$(terraform output -raw retention_dead_letter_queue_url)" <<'PY'
import json, sys, urllib.parse
work, bucket, dlq_output = sys.argv[1:]
load = lambda name: json.load(open(f"{work}/{name}.json"))
def document(name):
    policy = load(name)
    return json.loads(urllib.parse.unquote(policy)) if isinstance(policy, str) else policy
bucket_arn = f"arn:aws:s3:::{bucket}"
config, backend = load("retention-config"), load("backend-config")
assert (config["Runtime"], config["Handler"], config["Architectures"], config["Timeout"]) == ("provided.al2023", "bootstrap", ["arm64"], 300), config
assert config["MemorySize"] == backend["MemorySize"] and config["CodeSha256"] == backend["CodeSha256"], (config, backend)
assert config["Environment"]["Variables"] == {
    "APP_ENV": "dev", "LOG_FORMAT": "json", "RUST_LOG": "info", "METRICS_NAMESPACE": "BookingChat", "STAGE": "dev",
    "CHAT_JOB": "retention", "CHAT_RETENTION_DAYS": "30", "CHAT_READ_ONLY_AFTER_SECONDS": "604800",
    "CHAT_STORE": "dynamodb", "CHAT_TABLE": "booking-chat-dev-chat", "AWS_TIMEOUT_MS": "3000",
    "FILE_STORE": f"s3://{bucket}", "ATTACHMENTS_MAX_BYTES": "10485760",
    "ATTACHMENTS_TYPES": "image/jpeg,image/png,image/webp,application/pdf",
}, config["Environment"]["Variables"]
alias_arn = load("retention-alias")["AliasArn"]
assert alias_arn.endswith(":function:booking-chat-dev-retention:live"), alias_arn
invoke = load("retention-invoke-config")
assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (0, 3600), invoke
assert not invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"), invoke
policy = {s["Sid"]: s for s in document("retention-policy")["Statement"]}
table = "arn:aws:dynamodb:eu-west-1:123456789012:table/booking-chat-dev-chat"
assert sorted(policy) == sorted(["OwnLogs", "ChatTable", "ChatTableIndexes", "AuditLog", "AttachmentObjects", "Tracing"]), policy
assert (policy["ChatTable"]["Action"], policy["ChatTable"]["Resource"]) == (
    ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"], [table]), policy
assert (policy["ChatTableIndexes"]["Action"], policy["ChatTableIndexes"]["Resource"]) == (["dynamodb:Query"], [table + "/index/gsi1"]), policy
assert (policy["AuditLog"]["Action"], policy["AuditLog"]["Resource"], policy["AuditLog"]["Condition"]) == (
    ["dynamodb:PutItem"], [table], {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["AUDIT"]}}), policy
assert (policy["AttachmentObjects"]["Action"], policy["AttachmentObjects"]["Resource"]) == (
    ["s3:DeleteObject"], [bucket_arn + "/uploads/*", bucket_arn + "/files/*"]), policy
group = load("retention-group")
assert (group["Name"], group["State"]) == ("booking-chat-dev", "ACTIVE"), group
assert group["Arn"] == "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/booking-chat-dev", group
schedule = load("retention-schedule")
assert (schedule["Name"], schedule["GroupName"], schedule["ScheduleExpression"], schedule["State"], schedule["FlexibleTimeWindow"]) == (
    "booking-chat-dev-retention", "booking-chat-dev", "rate(1 hour)", "ENABLED", {"Mode": "OFF"}), schedule
target = schedule["Target"]
dlq = load("retention-dlq")["Attributes"]
assert (target["Arn"], target["RoleArn"], json.loads(target["Input"])) == (
    alias_arn, "arn:aws:iam::123456789012:role/booking-chat-dev-retention-scheduler", {"job": "retention"}), target
assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}, target
assert target["DeadLetterConfig"] == {"Arn": dlq["QueueArn"]}, target
(trust,) = document("scheduler-trust")["Statement"]
assert (trust["Effect"], trust["Principal"], trust["Action"]) == ("Allow", {"Service": "scheduler.amazonaws.com"}, "sts:AssumeRole"), trust
assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnEquals": {"aws:SourceArn": group["Arn"]}}, trust
scheduler = {s["Sid"]: (s["Action"], s["Resource"]) for s in document("scheduler-policy")["Statement"]}
assert scheduler == {"InvokeRetention": (["lambda:InvokeFunction"], [alias_arn]),
                     "RetentionDeadLetters": (["sqs:SendMessage"], [dlq["QueueArn"]])}, scheduler
assert dlq["QueueArn"].endswith(":booking-chat-dev-retention-dlq") and dlq["SqsManagedSseEnabled"] == "true", dlq
assert dlq["MessageRetentionPeriod"] == "1209600" and dlq_output.endswith("/booking-chat-dev-retention-dlq"), (dlq, dlq_output)
(statement,) = json.loads(dlq["Policy"])["Statement"]
assert (statement["Effect"], statement["Principal"], statement["Action"], statement["Resource"]) == (
    "Allow", {"AWS": "arn:aws:iam::123456789012:role/booking-chat-dev-retention-scheduler"}, "sqs:SendMessage", dlq["QueueArn"]), statement
PY
then ok "$name"; else cat "$work"/retention-*.json "$work"/scheduler-*.json >"$work/out"; not_ok "$name"; fi

# EventBridge refuses to delete a bus with rules on it: the preflight stops chat_events = false until the
# app's rules are gone.
# Notifications off in the values (their rule is still on the bus, which the preflight knows for its own).
rm "$work/envs/dev/notifications.auto.tfvars" "$work/envs/dev/web-push.auto.tfvars"
TF_VAR_chat_events=false preflight_expect "preflight: chat events off while the app's rules are on the bus is refused, naming them" fail \
  "chat_events = false deletes the bus booking-chat-dev, and EventBridge refuses while it has rules: app-chat-events" \
  "aws events delete-rule --region eu-west-1 --event-bus-name booking-chat-dev --name app-chat-events"
aws events remove-targets --event-bus-name booking-chat-dev --rule app-chat-events --ids queue >/dev/null
aws events delete-rule --event-bus-name booking-chat-dev --name app-chat-events
TF_VAR_chat_events=false preflight_expect "preflight: chat events off once the app's rules are gone pass (the archive's own rule aside)" pass \
  "ok    chat events: off: the bus booking-chat-dev has no rules of the app, and the apply deletes it"
if aws events describe-rule --event-bus-name booking-chat-dev --name booking-chat-dev-notifications >/dev/null 2>&1; then
  ok "preflight: the notifications' own rule on the bus is not taken for one of the app's"
else
  echo "booking-chat-dev-notifications is not on the bus" >"$work/out"; not_ok "preflight: the notifications' own rule on the bus is not taken for one of the app's"
fi

tf destroy -auto-approve "${vars[@]}" | tail -n 1
if aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
  echo "$bucket still exists" >"$work/out"; not_ok "envs/dev destroys, its attachments' bucket emptied first (no deletion protection in dev)"
else
  ok "envs/dev destroys, its attachments' bucket emptied first (no deletion protection in dev)"
fi
echo "envs/dev against moto: apply, empty second plan, destroy in $(( $(date +%s) - started )) s"

cd "$work/envs/account/eu-west-1"
tf destroy -auto-approve | tail -n 1
ok "the account root destroys"

# --- the Makefile hands ARCH and its zip to Terraform --------------------------------------------------
make -C "$root" -n apply ENV=dev ARCH=x86_64 >"$work/out" 2>&1 || true
if grep -q "apply -input=false -var 'lambda_architecture=x86_64' -var 'lambda_package_path=../../target/lambda/x86_64/chat-proxy/bootstrap.zip' -var 'backend_package_path=../../target/lambda/x86_64/chat-backend-lambda/bootstrap.zip' -var 'notifier_package_path=../../target/lambda/x86_64/chat-notifier/bootstrap.zip' -var 'media_package_path=../../target/lambda/x86_64/chat-media/bootstrap.zip'" "$work/out" \
  && grep -n "preflight.py env dev" "$work/out" | head -1 | grep -q . \
  && [ "$(grep -n 'preflight.py env dev' "$work/out" | head -1 | cut -d: -f1)" -lt "$(grep -n 'cargo lambda build' "$work/out" | head -1 | cut -d: -f1)" ]; then
  ok "make apply ARCH=x86_64 runs the preflight before packaging, and gives Terraform the x86_64 architecture and the four zips"
else
  not_ok "make apply ARCH=x86_64 runs the preflight before packaging, and gives Terraform the x86_64 architecture and the four zips"
fi
[ "$failed" -eq 0 ]
