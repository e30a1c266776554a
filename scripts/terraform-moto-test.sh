#!/usr/bin/env bash
# envs/dev against moto_server: init, apply, a second plan that must show no changes, destroy.
#
# Runs on a temporary copy of terraform/ and envs/. moto's gaps are handled there, by override files
# written at test time, never by changing the production files:
# - the provider points every service at moto, with test credentials and few retries;
# - state is local instead of S3;
# - moto has no CreateDeployment for API Gateway v2: the deployment is not created and the stage has none.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
if [ -d /opt/tf-plugins ]; then export TF_CLI_CONFIG_FILE="$root/terraform/mirror.tfrc"; fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() {
  status=$?
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then echo "--- moto log ---"; tail -n 30 "$work/moto.log"; fi
  rm -rf "$work"
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

cp -a terraform envs "$work/"
# Leave behind whatever a developer initialised in the real tree (a real backend, providers).
find "$work/terraform" "$work/envs" -name .terraform -type d -prune -exec rm -rf {} +
find "$work/terraform" "$work/envs" -name 'backend.hcl' -delete
cat >"$work/envs/dev/moto_override.tf" <<HCL
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
    iam            = "$endpoint"
    lambda         = "$endpoint"
    secretsmanager = "$endpoint"
    sns            = "$endpoint"
    ssm            = "$endpoint"
    sts            = "$endpoint"
  }
}
HCL
cat >"$work/terraform/modules/websocket-api/moto_override.tf" <<'HCL'
resource "aws_apigatewayv2_deployment" "this" {
  count = 0
}

resource "aws_apigatewayv2_stage" "this" {
  deployment_id = null
}
HCL

# The proxy secret lives outside Terraform; a placeholder package stands in for `make package`.
python3 - "$endpoint" "$work/bootstrap.zip" <<'PY'
import sys, zipfile, boto3
ssm = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
ssm.put_parameter(Name="/booking-chat/dev/proxy-secret", Value="moto-test-secret", Type="SecureString", Overwrite=True)
with zipfile.ZipFile(sys.argv[2], "w") as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    z.writestr(info, "#!/bin/sh\n")
PY

cd "$work/envs/dev"
export TF_VAR_backend_url=https://chat-backend.internal
tf() { terraform "$@" -no-color -input=false; }
tf init -backend=true >/dev/null
started=$(date +%s)
tf apply -auto-approve -var "lambda_package_path=$work/bootstrap.zip" | tail -n 12
set +e
tf plan -detailed-exitcode -var "lambda_package_path=$work/bootstrap.zip" >"$work/second-plan.txt"
second=$?
set -e
if [ "$second" -ne 0 ]; then
  echo "the second plan is not empty (exit $second):"
  grep -E "^  [#~+-]|^      [~+-]" "$work/second-plan.txt" || cat "$work/second-plan.txt"
  exit 1
fi
echo "second plan: no changes"
tf destroy -auto-approve -var "lambda_package_path=$work/bootstrap.zip" | tail -n 2
echo "envs/dev against moto: apply, empty second plan, destroy in $(( $(date +%s) - started )) s"
