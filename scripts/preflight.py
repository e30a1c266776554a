#!/usr/bin/env python3
"""What `make plan` and `make apply` check before packaging or touching Terraform state, in seconds.

    scripts/preflight.py env dev|staging|prod     an environment root (envs/<env>)
    scripts/preflight.py account eu-west-1        the one-time account root (envs/account/<region>)

Each check prints `ok`, `FAIL` with the command that fixes it, or `skip` with the reason, and every check
runs even after a failure, so one run lists everything that is missing. Exit status 1 when any failed.

The values come from the root's terraform.tfvars and *.auto.tfvars and from TF_VAR_* variables, with
Terraform's precedence (TF_VAR_ lowest, then terraform.tfvars, then *.auto.tfvars in name order). Only
the simple values these checks need are read (strings, numbers, booleans, null, objects of those such as
`notifications`, and a list of strings in one, as `web_push`'s `endpoint_hosts` or `attachments`'s
`allowed_origins`).

AWS is reached through the AWS CLI with the caller's usual configuration (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL for an emulator). PREFLIGHT_SKIP=concurrency (comma-separated) skips the checks named;
the offline tests need it because moto has no GetAccountSettings for Lambda. Nothing else can be skipped.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPABLE = {"concurrency"}
# Lambda refuses a reservation that leaves fewer than this many executions unreserved in the account.
MIN_UNRESERVED = 100
# Hosts that only ever stand in for a real one (RFC 2606 and 6761); the roots refuse them too.
PLACEHOLDER_HOST = re.compile(r"(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$")
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$"
)
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:[a-zA-Z0-9_-]{1,256}$")
# The only environment whose alarms may go without actions (envs/shared/variables.tf says the same).
UNWATCHED_ENVIRONMENTS = {"dev"}
# A browser's Origin: https, a lowercase host, an optional port, nothing after it.
ORIGIN = re.compile(r"^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")
EXAMPLE_BUCKET = "example-terraform-state-123456789012"
# The push services of the browsers people use, which the code allows when PUSH_ENDPOINT_HOSTS is unset
# (chat_store::push::DEFAULT_PUSH_HOSTS): web_push.endpoint_hosts replaces them.
BROWSER_PUSH_HOSTS = {
    "fcm.googleapis.com": "Chrome, Edge on Android, Opera",
    "updates.push.services.mozilla.com": "Firefox",
    "push.apple.com": "Safari",
    "notify.windows.com": "Edge on Windows",
}
# Names no push service has a publicly trusted https certificate for: reserved (RFC 2606, 6761), local or
# private-use names, and addresses.
NOT_A_PUBLIC_HOST = re.compile(
    r"(^|\.)(example\.(com|net|org)|example|invalid|test|localhost|local|internal|lan|home\.arpa|corp)$"
    r"|^[0-9.]+$|:"
)
# The curve of VAPID keys, NIST P-256: y^2 = x^3 - 3x + b over the prime p.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
# A VAPID key pair, with what everyone has (npx web-push generate-vapid-keys), or with openssl alone.
VAPID_KEYS_HOWTO = (
    "npx web-push generate-vapid-keys   (its Public Key is web_push.public_key, its Private Key the secret), or:\n"
    "openssl ecparam -name prime256v1 -genkey -noout -out vapid.pem\n"
    "openssl ec -in vapid.pem -pubout -outform DER | tail -c 65 | base64 | tr '/+' '_-' | tr -d '=\\n'   # public\n"
    "openssl ec -in vapid.pem -outform DER | tail -c +8 | head -c 32 | base64 | tr '/+' '_-' | tr -d '=\\n'   # private"
)
# Variables of the backend function, which has no use beside backend_url (a backend elsewhere).
BACKEND_FUNCTION_ONLY = [
    "jwt_secret_ssm_parameter_name", "jwt_secret_secrets_manager_arn",
    "service_token_ssm_parameter_name", "service_token_secrets_manager_arn",
    "database_url_ssm_parameter_name", "database_url_secrets_manager_arn",
    "chat_store", "vpc_subnet_ids", "vpc_security_group_ids", "cors_allowed_origins", "attachments",
    "message_retention_days",
]
# How long a cancelled or completed booking's chat stays writable when chat_rules leaves it out (the backend's
# default, which module booking-chat passes): a retention must be longer.
DEFAULT_READ_ONLY_AFTER_SECONDS = 7 * 86400
# What Lambda takes: a zip uploaded with the function (as Terraform does, without S3) of at most 50 MB, and
# at most 250 MB unpacked.
LAMBDA_ZIP_MAX_BYTES = 50 * 1024 * 1024
LAMBDA_UNZIPPED_MAX_BYTES = 250 * 1024 * 1024


class Report:
    """Collects the outcome of each check and prints it as it comes."""

    def __init__(self) -> None:
        self.failed = 0

    def ok(self, name: str, detail: str) -> None:
        print(f"  ok    {name}: {detail}")

    def skip(self, name: str, reason: str) -> None:
        print(f"  skip  {name}: {reason}")

    def warn(self, name: str, problem: str, advice: str) -> None:
        """Something that applies and runs, but not as one would expect: said, never a failure."""
        print(f"  warn  {name}: {problem}")
        for line in advice.strip().splitlines():
            print(f"        {line}")

    def fail(self, name: str, problem: str, fix: str) -> None:
        self.failed += 1
        print(f"  FAIL  {name}: {problem}")
        for line in fix.strip().splitlines():
            print(f"        {line}")


# --- tfvars -------------------------------------------------------------------------------------------

class Unreadable:
    """A value this reader does not evaluate (a list, a map, an expression)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _strip_comment(line: str) -> str:
    in_string = escaped = False
    for i, ch in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#" or line.startswith("//", i):
            return line[:i]
    return line


def _scalar(text: str):
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return Unreadable(text)
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return Unreadable(text)


def parse_tfvars(text: str) -> dict:
    """Top-level `name = value` assignments; multi-line values are kept as Unreadable."""
    values: dict = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = _strip_comment(lines[i]).strip()
        i += 1
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$", line)
        if not match:
            continue
        name, value = match.groups()
        depth = value.count("[") + value.count("{") - value.count("]") - value.count("}")
        if value.startswith("<<"):
            marker = value.lstrip("<-").strip()
            while i < len(lines) and lines[i].strip() != marker:
                i += 1
            i += 1
            values[name] = Unreadable(value)
            continue
        while depth > 0 and i < len(lines):
            more = _strip_comment(lines[i])
            depth += more.count("[") + more.count("{") - more.count("]") - more.count("}")
            value += more
            i += 1
        values[name] = _scalar(value) if not value.startswith(("[", "{")) else Unreadable(value)
    return values


def root_values(root: Path) -> dict:
    values: dict = {}
    for key, raw in os.environ.items():
        if key.startswith("TF_VAR_"):
            # Terraform takes a TF_VAR_ value literally for a string variable and parses it for the others.
            literal = raw.strip() in ("true", "false", "null") or re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw.strip())
            values[key[len("TF_VAR_"):]] = _scalar(raw) if literal else raw
    files = [root / "terraform.tfvars"] + sorted(root.glob("*.auto.tfvars"))
    for path in files:
        if path.is_file():
            values.update(parse_tfvars(path.read_text()))
    return values


# --- AWS CLI ------------------------------------------------------------------------------------------

class AwsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def aws(*args: str, region: str | None = None) -> dict:
    command = ["aws", *args, "--output", "json"]
    if region:
        command += ["--region", region]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AwsError("Timeout", f"`aws {' '.join(args)}` did not answer within 60 s")
    if done.returncode != 0:
        err = done.stderr.strip()
        match = re.search(r"An error occurred \(([^)]+)\)", err)
        raise AwsError(match.group(1) if match else "Error", err.splitlines()[-1] if err else f"exit {done.returncode}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


# --- checks -------------------------------------------------------------------------------------------

def check_backend(report: Report, root: Path, rel: str) -> None:
    path = root / "backend.hcl"
    if not path.is_file():
        report.fail("state backend", f"{rel}/backend.hcl is missing",
                    f"cp {rel}/backend.hcl.example {rel}/backend.hcl, then name your state bucket in it\n"
                    "(docs/deploying.md, First apply, step 2 creates the bucket).")
        return
    text = path.read_text()
    if EXAMPLE_BUCKET in text:
        report.fail("state backend", f"{rel}/backend.hcl still names the example bucket {EXAMPLE_BUCKET}",
                    f"put your state bucket's name in {rel}/backend.hcl.")
        return
    bucket = re.search(r'^\s*bucket\s*=\s*"([^"]+)"', text, re.M)
    report.ok("state backend", f"{rel}/backend.hcl (bucket {bucket.group(1) if bucket else '?'})")


def state_key(root: Path) -> str | None:
    """The S3 key a root's backend.tf keeps its state under."""
    path = root / "backend.tf"
    match = re.search(r'^\s*key\s*=\s*"([^"]+)"', path.read_text(), re.M) if path.is_file() else None
    return match.group(1) if match else None


def check_identity(report: Report, values: dict, root: Path, env: str, rel: str, envs_dir: Path) -> None:
    """An environment is its values and its state: a root copied from another one keeps both until told."""
    name = values.get("environment")
    if name != env:
        report.fail("environment", f"{rel}/terraform.tfvars says environment = {json.dumps(name)}, not \"{env}\"",
                    f'in {rel}/terraform.tfvars: environment = "{env}" (it names every resource, and the directory names the environment).')
        return
    key = state_key(root)
    if key is None:
        report.fail("environment", f"{rel}/backend.tf names no state key",
                    f'in {rel}/backend.tf: key = "booking-chat/{env}/terraform.tfstate" in the backend "s3" block.')
        return
    others = sorted(f"envs/{other.parent.name}" for other in envs_dir.glob("*/backend.tf")
                    if other.parent.resolve() != root.resolve() and state_key(other.parent) == key)
    if others:
        report.fail("environment", f"{rel}/backend.tf keeps its state at {key}, as {' and '.join(others)} does",
                    f'in {rel}/backend.tf: key = "booking-chat/{env}/terraform.tfstate" (one state per environment).')
        return
    report.ok("environment", f"{env}, state at {key}")


def check_lock_file(report: Report, root: Path, rel: str) -> None:
    """A lock file made from a provider mirror has h1: hashes for the mirror's platforms only."""
    if not shutil.which("terraform"):
        report.fail("terraform", "terraform is not on PATH", "install Terraform >= 1.10.")
        return
    version = json.loads(subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True).stdout or "{}")
    platform = version.get("platform", "?")
    numbers = [int(n) for n in re.findall(r"\d+", version.get("terraform_version", "0.0"))[:2]]
    if numbers < [1, 10]:
        report.fail("terraform", f"Terraform {version.get('terraform_version')} is older than 1.10 (S3 state locking)",
                    "install Terraform >= 1.10.")
        return
    lock = root / ".terraform.lock.hcl"
    if not lock.is_file():
        report.ok("terraform", f"{version.get('terraform_version')} on {platform}; no lock file yet (init writes one: commit it)")
        return
    text = lock.read_text()
    if "zh:" not in text and platform != "linux_amd64":
        report.fail("provider lock", f"{rel}/.terraform.lock.hcl has checksums for linux_amd64 only (made from a provider mirror), this is {platform}",
                    "with access to registry.terraform.io: make tf-lock, then commit the lock files.")
        return
    report.ok("terraform", f"{version.get('terraform_version')} on {platform}, lock file covers it")


def check_credentials(report: Report, region: str) -> bool:
    if not shutil.which("aws"):
        report.fail("credentials", "the AWS CLI (aws) is not on PATH",
                    "install it (pip install awscli, or AWS's installer); the checks below need it.")
        return False
    try:
        who = aws("sts", "get-caller-identity", region=region)
    except AwsError as e:
        report.fail("credentials", e.message,
                    "configure credentials for the target account: aws configure, aws sso login --profile P\n"
                    "with AWS_PROFILE=P, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; then aws sts get-caller-identity.")
        return False
    report.ok("credentials", f"{who.get('Arn')} (account {who.get('Account')})")
    return True


def check_backend_url(report: Report, values: dict, env: str, rel: str) -> None:
    url = values.get("backend_url")
    if url is None:
        report.ok("backend", f"the backend function booking-chat-{env}-backend, which the proxy invokes (no backend_url)")
        return
    example = (f'in {rel}/terraform.tfvars: backend_url = "https://<the chat backend>" (or export TF_VAR_backend_url),\n'
               "or remove backend_url to deploy the backend function.")
    host = re.match(r"^https://([^/:?#]+)", str(url))
    if not host:
        report.fail("backend_url", f"{url!r} is not an https:// URL", example)
        return
    if PLACEHOLDER_HOST.search(host.group(1).lower()):
        report.fail("backend_url", f"{url!r} is a placeholder host", example)
        return
    # What only the backend function uses: Terraform refuses it beside backend_url rather than ignore it.
    def is_set(name: str) -> bool:
        value = values.get(name)
        if value is None or (name == "chat_store" and value == "dynamodb"):
            return False
        as_list = string_list(value)
        return as_list is None or len(as_list) > 0
    function_only = [name for name in BACKEND_FUNCTION_ONLY if is_set(name)]
    if function_only:
        report.fail("backend_url", f"a backend elsewhere, yet {rel} sets what only the backend function uses: {', '.join(function_only)}",
                    f"remove {', '.join(function_only)} from {rel}/terraform.tfvars (that backend holds its own secrets and store),\n"
                    "or remove backend_url to deploy the backend function.")
        return
    report.ok("backend_url", f"{url} (a backend elsewhere: no backend function)")


def string_list(value) -> list | None:
    """A list of strings from tfvars (kept as Unreadable text) or from a TF_VAR_ value; None if it is not one."""
    text = value.text if isinstance(value, Unreadable) else value
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(re.sub(r",\s*\]", "]", text))
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed) else None


OBJECT_ATTRIBUTE = re.compile(
    r'(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_-]*))\s*[=:]\s*("(?:[^"\\]|\\.)*"|true|false|null|-?[0-9]+(?:\.[0-9]+)?)'
)


def flat_object(value) -> dict | None:
    """An object of simple values from tfvars (kept as Unreadable text: `{ name = "value" ... }`) or from a
    TF_VAR_ value (HCL or JSON); None if it is not one. Nested values are not read."""
    text = (value.text if isinstance(value, Unreadable) else value) if value is not None else None
    if not isinstance(text, str) or not text.strip().startswith("{") or not text.strip().endswith("}"):
        return None
    return {quoted or bare: _scalar(raw) for quoted, bare, raw in OBJECT_ATTRIBUTE.findall(text.strip()[1:-1])}


def check_cors(report: Report, values: dict, rel: str) -> None:
    """The HTTP API's browser origins: required with the backend function, and never committed."""
    if values.get("backend_url") is not None:
        return
    example = (f'in {rel}/terraform.tfvars: cors_allowed_origins = ["https://app.yourcompany.com"] (the web origins\n'
               "that call the HTTP API: the marketplace's web app, pages embedding the chat), or [] when only servers call it.")
    origins = values.get("cors_allowed_origins")
    if origins is None:
        report.fail("CORS origins", "cors_allowed_origins is not set (it has no default on purpose)", example)
        return
    parsed = string_list(origins)
    if parsed is None:
        report.fail("CORS origins", f"cors_allowed_origins = {getattr(origins, 'text', origins)} is not a list of strings", example)
        return
    malformed = [o for o in parsed if o != "*" and not ORIGIN.match(o)]
    if malformed:
        report.fail("CORS origins", f"not https://host[:port] origins: {', '.join(malformed)}",
                    "an origin is what browsers send in Origin: https://app.yourcompany.com, no path, no trailing slash.")
        return
    placeholders = [o for o in parsed if o != "*" and PLACEHOLDER_HOST.search(o[len("https://"):].split(":")[0])]
    if placeholders:
        report.fail("CORS origins", f"placeholder hosts: {', '.join(placeholders)}", example)
        return
    report.ok("CORS origins", ", ".join(parsed) if parsed else "none (only servers call the HTTP API)")


def check_attachments(report: Report, values: dict, env: str, rel: str, root: Path) -> None:
    """With attachments, browsers upload with a form POSTed to the bucket, so the bucket's CORS needs their
    origins (attachments.allowed_origins, else cors_allowed_origins): none outside dev is a failure, in dev
    a warning. And the media processor's zip, when it is built already (`make apply` builds it after this
    check, `make plan` checks it after), must be one Lambda takes."""
    raw = values.get("attachments")
    if raw is None:
        report.ok("attachments", "off (no bucket, no media processor)")
        return
    if flat_object(raw) is None:
        report.fail("attachments", f"attachments = {getattr(raw, 'text', raw)} is not an object",
                    f"in {rel}/terraform.tfvars: attachments = {{}} for the defaults (docs/deploying.md, Attachments), or remove it.")
        return
    if values.get("backend_url") is not None:
        report.fail("attachments", "attachments need the backend function (it signs the uploads and downloads), and backend_url runs it elsewhere",
                    f"in {rel}/terraform.tfvars: remove attachments, or remove backend_url.")
        return
    own = list_attribute(raw, "allowed_origins")
    if own is None and string_list(values.get("cors_allowed_origins")) is None:
        # The CORS origins check has said what is wrong with them.
        report.skip("attachments", "on: browsers upload from cors_allowed_origins, which is not a list yet (above)")
        check_media_package(report, values, root)
        return
    origins = own if own is not None else string_list(values.get("cors_allowed_origins"))
    source = "attachments.allowed_origins" if own is not None else "cors_allowed_origins"
    bad = [o for o in origins if o != "*" and (not ORIGIN.match(o) or PLACEHOLDER_HOST.search(o[len("https://"):].split(":")[0]))]
    if bad:
        report.fail("attachments", f"{source} has origins browsers never send, or placeholders: {', '.join(bad)}",
                    "an origin is https://host[:port] of the pages that embed the chat: no path, no trailing slash, no example.com.")
    elif not origins:
        problem = f"no browser origin may upload to the bucket ({source} is empty): the widget cannot attach files"
        fix = (f'in {rel}/terraform.tfvars: cors_allowed_origins = ["https://app.yourcompany.com"] (the pages that embed the chat),\n'
               "or attachments = { allowed_origins = [...] }, or remove attachments.")
        if env in UNWATCHED_ENVIRONMENTS:
            report.warn("attachments", problem + " (dev may try them with curl)", fix)
        else:
            report.fail("attachments", problem, fix)
    else:
        report.ok("attachments", f"on: the bucket booking-chat-{env}-attachments-<account id>, uploads from {', '.join(origins)}")
    check_media_package(report, values, root)


def check_retention(report: Report, values: dict, env: str, rel: str) -> None:
    """With message_retention_days, the retention job deletes the chat of bookings that ended that many days
    ago, every hour: a whole number of days from 1 to 3650, longer than the chat's read-only delay (the job
    refuses to start otherwise), and only with the backend function. Terraform refuses the same, but only
    at plan time, after `make apply` has packaged."""
    days = values.get("message_retention_days")
    if days is None:
        report.ok("retention", "off (no retention job: chats are kept as long as the store is)")
        return
    example = (f"in {rel}/terraform.tfvars: message_retention_days = 365 (whole days, 1 to 3650; docs/deploying.md, Retention),\n"
               "or remove it to keep chats.")
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days != int(days) or not 1 <= days <= 3650:
        report.fail("retention", f"message_retention_days = {getattr(days, 'text', days)} is not a whole number of days from 1 to 3650", example)
        return
    days = int(days)
    if values.get("backend_url") is not None:
        report.fail("retention", "the retention job is the backend function's, and backend_url runs the backend (and its store) elsewhere",
                    f"in {rel}/terraform.tfvars: remove message_retention_days (that backend runs its own job), or remove backend_url.")
        return
    rules = flat_object(values.get("chat_rules")) if values.get("chat_rules") is not None else {}
    read_only = (rules or {}).get("read_only_after_seconds", DEFAULT_READ_ONLY_AFTER_SECONDS)
    if isinstance(read_only, (int, float)) and not isinstance(read_only, bool) and days * 86400 <= read_only:
        report.fail("retention", f"message_retention_days = {days} is not longer than the chat's read-only delay "
                    f"(chat_rules.read_only_after_seconds = {read_only:.0f} s, {read_only / 86400:g} days): chats members may still write in would be deleted",
                    f"in {rel}/terraform.tfvars: message_retention_days = {int(read_only // 86400) + 1} or more, or a shorter read_only_after_seconds.")
        return
    report.ok("retention", f"the chat of bookings that ended more than {days} day{'s' if days != 1 else ''} ago deleted every hour "
              f"(booking-chat-{env}-retention)")


def check_media_package(report: Report, values: dict, root: Path) -> None:
    """The media processor's zip is the largest (an image codec): Lambda refuses one over 50 MB uploaded
    with the function, or over 250 MB unpacked. Not built yet is no failure here: `make apply` builds it
    next, and `make plan` checks it is there."""
    arch = os.environ.get("ARCH") or values.get("lambda_architecture") or "arm64"
    given = values.get("media_package_path")
    path = (root / str(given)).resolve() if isinstance(given, str) else ROOT / "target" / "lambda" / str(arch) / "chat-media" / "bootstrap.zip"
    shown = os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else str(path)
    if not path.is_file():
        report.skip("media package", f"{shown} is not built yet (make apply builds it next; for make plan: make package ARCH={arch})")
        return
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        report.fail("media package", f"{shown} is not a zip", f"make package ARCH={arch}")
        return
    zipped = path.stat().st_size
    size = f"{zipped / 1e6:.2f} MB zipped, {unpacked / 1e6:.1f} MB unpacked"
    if zipped > LAMBDA_ZIP_MAX_BYTES or unpacked > LAMBDA_UNZIPPED_MAX_BYTES:
        report.fail("media package", f"{shown} is {size}: Lambda takes at most 50 MB zipped (uploaded with the function) and 250 MB unpacked",
                    "make the processor smaller (media/Cargo.toml: only the codecs kept, the deploy profile), then make package.")
        return
    report.ok("media package", f"{shown}, {size} (Lambda takes 50 MB and 250 MB)")


def check_attachments_key(report: Report, values: dict, region: str, rel: str) -> None:
    """With attachments.kms_key_arn, S3 encrypts every file with that key: it must be an enabled symmetric
    key of the region, or every upload and every write of the processor fails."""
    attachments = flat_object(values.get("attachments")) if values.get("attachments") is not None else None
    arn = (attachments or {}).get("kms_key_arn")
    if not isinstance(arn, str):
        return
    try:
        key = aws("kms", "describe-key", "--key-id", arn, region=region)["KeyMetadata"]
    except AwsError as e:
        report.fail("attachments key", f"cannot describe {arn} in {region}: {e.message}",
                    f"create a symmetric key in {region} (aws kms create-key --region {region}) and put its ARN in\n"
                    f"attachments.kms_key_arn in {rel}/terraform.tfvars, or remove kms_key_arn (SSE-S3).")
        return
    if key.get("KeyState") != "Enabled" or key.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        report.fail("attachments key", f"{arn} is {key.get('KeyState')} ({key.get('KeySpec')}): S3 needs an enabled symmetric key",
                    f"aws kms enable-key --region {region} --key-id {arn}, or name another key.")
        return
    report.ok("attachments key", f"{arn}, enabled in {region}")


class Secret:
    """One secret a function reads by name: which variables name it, and how to create it."""

    def __init__(self, label: str, prefix: str, value: str, note: str) -> None:
        self.label = label          # as printed, e.g. "proxy secret"
        self.prefix = prefix        # the variables <prefix>_ssm_parameter_name / <prefix>_secrets_manager_arn
        self.value = value          # the shell expression of a value, for the command that creates it
        self.note = note            # what else to do with the value, or ""


def secrets_needed(values: dict) -> list[Secret]:
    """The proxy's secret always; the backend function's own when it is deployed (no backend_url), the
    unsubscribe links' key among them with notifications."""
    backend_function = values.get("backend_url") is None
    needed = [Secret("proxy secret", "proxy_secret", '"$(openssl rand -hex 32)"',
                     "" if backend_function else "and give the chat backend the same value as PROXY_SECRET")]
    if backend_function:
        needed.append(Secret("JWT secret", "jwt_secret", '"$(openssl rand -hex 32)"',
                             "the HS256 key of user tokens: whoever issues them (the marketplace) signs with it"))
        needed.append(Secret("service token", "service_token", '"$(openssl rand -hex 32)"',
                             "the marketplace sends it as Authorization: Bearer to /api/service/..."))
        if values.get("chat_store", "dynamodb") == "postgres":
            needed.append(Secret("database URL", "database_url", "'postgres://USER:PASSWORD@HOST:5432/DATABASE'", ""))
        if values.get("notifications") is not None:
            needed.append(Secret("notify link secret", "notify_link_secret", '"$(openssl rand -hex 32)"',
                                 "the key of the emails' unsubscribe links: the notifier signs, the backend checks"))
        if values.get("web_push") is not None:
            needed.append(Secret("VAPID private key", "vapid_private_key", "'<the private key>'",
                                 "web_push.public_key's private half, 43 base64url characters (npx web-push generate-vapid-keys)"))
    return needed


def check_secret(report: Report, values: dict, secret: Secret, region: str, env: str, rel: str) -> None:
    name = values.get(f"{secret.prefix}_ssm_parameter_name")
    arn = values.get(f"{secret.prefix}_secrets_manager_arn")
    label = secret.label
    if (name is None) == (arn is None):
        report.fail(label, f"set exactly one of {secret.prefix}_ssm_parameter_name and {secret.prefix}_secrets_manager_arn",
                    f"in {rel}/terraform.tfvars, e.g. {secret.prefix}_ssm_parameter_name = \"/booking-chat/{env}/{secret.prefix.replace('_', '-')}\".")
        return
    note = f"   # {secret.note}" if secret.note else ""
    if name is not None:
        create = (f"aws ssm put-parameter --region {region} --name {name} --type SecureString \\\n"
                  f"  --value {secret.value}{note}")
        try:
            parameter = aws("ssm", "get-parameter", "--name", str(name), region=region)["Parameter"]
        except AwsError as e:
            if e.code == "ParameterNotFound":
                report.fail(label, f"SSM parameter {name} does not exist in {region}", create)
            else:
                report.fail(label, f"cannot read SSM parameter {name} in {region}: {e.message}",
                            "the deploying identity needs ssm:GetParameter on it.")
            return
        if parameter.get("Type") != "SecureString":
            report.fail(label, f"SSM parameter {name} is a {parameter.get('Type')}, not a SecureString",
                        f"aws ssm delete-parameter --region {region} --name {name}, then:\n{create}")
            return
        report.ok(label, f"SSM SecureString {name} in {region}")
        return
    match = SECRET_ARN.match(str(arn))
    if not match:
        report.fail(label, f"{arn!r} is not a complete Secrets Manager ARN",
                    f"aws secretsmanager describe-secret --region {region} --secret-id {arn} --query ARN --output text\n"
                    f"and put that ARN in {rel}/terraform.tfvars.")
        return
    if match.group(1) != region:
        report.fail(label, f"the secret is in {match.group(1)}, the environment in {region}",
                    f"create the secret in {region} (the function reads it from its own region).")
        return
    try:
        described = aws("secretsmanager", "describe-secret", "--secret-id", str(arn), region=region)
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            report.fail(label, f"secret {arn} does not exist",
                        f"aws secretsmanager create-secret --region {region} --name booking-chat/{env}/{secret.prefix.replace('_', '-')} \\\n"
                        f"  --secret-string {secret.value} --query ARN --output text{note}\n"
                        f"and put the ARN it prints in {rel}/terraform.tfvars.")
        else:
            report.fail(label, f"cannot describe secret {arn}: {e.message}",
                        "the deploying identity needs secretsmanager:DescribeSecret on it.")
        return
    if described.get("ARN") != arn:
        # A partial ARN whose name happens to end in '-' and six characters looks complete.
        report.fail(label, f"{arn} is a partial ARN: the secret's ARN is {described.get('ARN')}",
                    f"use {described.get('ARN')} in {rel}/terraform.tfvars (IAM matches complete ARNs only).")
        return
    report.ok(label, f"Secrets Manager {arn}")


def covers(pattern: str, domain: str) -> bool:
    """Whether a certificate name (exact, or a wildcard for one label) covers the domain."""
    pattern, domain = pattern.lower().rstrip("."), domain.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = domain.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == domain


def check_domains(report: Report, values: dict, region: str, rel: str) -> None:
    """A custom domain's certificate must exist in the region, be issued, and cover the domain: API Gateway
    refuses a pending one, and a certificate for another name makes every TLS handshake fail."""
    for api, label in (("websocket", "WebSocket domain"), ("http", "HTTP domain")):
        domain = values.get(f"{api}_domain_name")
        arn = values.get(f"{api}_certificate_arn")
        if domain is None and arn is None:
            continue
        if domain is None or arn is None:
            report.fail(label, f"set both {api}_domain_name and {api}_certificate_arn, or neither", f"in {rel}/terraform.tfvars.")
            continue
        request = (f"aws acm request-certificate --region {region} --domain-name {domain} --validation-method DNS\n"
                   f"then create the validation record it asks for (aws acm describe-certificate --region {region}\n"
                   f"--certificate-arn ARN --query Certificate.DomainValidationOptions) and wait until it is ISSUED.")
        try:
            certificate = aws("acm", "describe-certificate", "--certificate-arn", str(arn), region=region)["Certificate"]
        except AwsError as e:
            if e.code in ("ResourceNotFoundException", "ValidationException", "InvalidArnException"):
                report.fail(label, f"certificate {arn} does not exist in {region}",
                            f"{request}\n(a regional domain takes a certificate from the environment's own region.)")
            else:
                report.fail(label, f"cannot describe certificate {arn}: {e.message}",
                            "the deploying identity needs acm:DescribeCertificate on it.")
            continue
        status = certificate.get("Status")
        if status != "ISSUED":
            report.fail(label, f"certificate {arn} is {status}, not ISSUED: API Gateway refuses it",
                        "finish its DNS validation (aws acm describe-certificate --region "
                        f"{region} --certificate-arn {arn}\n--query Certificate.DomainValidationOptions), or:\n{request}")
            continue
        names = [certificate.get("DomainName", "")] + list(certificate.get("SubjectAlternativeNames") or [])
        if not any(covers(name, str(domain)) for name in names if name):
            report.fail(label, f"certificate {arn} covers {', '.join(sorted(set(n for n in names if n)))}, not {domain}", request)
            continue
        report.ok(label, f"{domain}: certificate issued in {region}")


def check_alarm_topic(report: Report, values: dict, region: str, env: str, rel: str) -> None:
    """Outside dev, alarms must tell someone: a topic in the region with at least one confirmed subscription."""
    arn = values.get("alarm_topic_arn")
    create = (f"aws sns create-topic --region {region} --name booking-chat-{env}-alarms --query TopicArn --output text\n"
              f"aws sns subscribe --region {region} --topic-arn ARN --protocol email --notification-endpoint you@yourcompany.com\n"
              f"(and confirm the email), then alarm_topic_arn = \"ARN\" in {rel}/terraform.tfvars (not committed) or\n"
              "TF_VAR_alarm_topic_arn.")
    if arn is None:
        if env in UNWATCHED_ENVIRONMENTS:
            report.skip("alarm topic", f"alarm_topic_arn is unset: {env}'s alarms have no actions")
        else:
            report.fail("alarm topic", f"alarm_topic_arn is not set: {env}'s alarms would tell nobody", create)
        return
    match = TOPIC_ARN.match(str(arn))
    if not match:
        report.fail("alarm topic", f"{arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", create)
        return
    if match.group(1) != region:
        report.fail("alarm topic", f"the topic is in {match.group(1)}, the environment in {region}",
                    f"CloudWatch alarms notify topics of their own region only:\n{create}")
        return
    try:
        subscriptions = aws("sns", "list-subscriptions-by-topic", "--topic-arn", str(arn), region=region).get("Subscriptions", [])
    except AwsError as e:
        if e.code in ("NotFound", "NotFoundException"):
            report.fail("alarm topic", f"topic {arn} does not exist in {region}", create)
        else:
            report.fail("alarm topic", f"cannot list the subscriptions of {arn}: {e.message}",
                        "the deploying identity needs sns:ListSubscriptionsByTopic on it.")
        return
    confirmed = [s for s in subscriptions if s.get("SubscriptionArn", "").startswith("arn:")]
    if not confirmed:
        pending = len(subscriptions)
        report.fail("alarm topic", f"topic {arn} has no confirmed subscription{f' ({pending} pending)' if pending else ''}: an alarm would tell nobody",
                    f"aws sns subscribe --region {region} --topic-arn {arn} --protocol email --notification-endpoint you@yourcompany.com\n"
                    "and confirm the email (or subscribe your pager's or chat's endpoint).")
        return
    report.ok("alarm topic", f"{arn} ({len(confirmed)} confirmed subscription{'s' if len(confirmed) > 1 else ''})")


def check_apigateway_account(report: Report, values: dict, region: str, rel: str) -> None:
    access = values.get("access_logging", True)
    level = values.get("execution_logging_level", "ERROR")
    if access is False and level == "OFF":
        report.skip("API Gateway logging role", "access_logging = false and execution_logging_level = \"OFF\"")
        return
    try:
        account = aws("apigateway", "get-account", region=region)
    except AwsError as e:
        report.fail("API Gateway logging role", f"cannot read API Gateway's account settings in {region}: {e.message}",
                    "the deploying identity needs apigateway:GET on /account.")
        return
    role = account.get("cloudwatchRoleArn")
    if role:
        report.ok("API Gateway logging role", f"{role} in {region}")
        return
    account_root = f"envs/account/{region}"
    how = (f"once per account and region: make account-apply REGION={region}   ({account_root})"
           if (ROOT / account_root).is_dir() else
           f"once per account and region: cp -r envs/account/eu-west-1 {account_root}, set its region and\n"
           f"backend key, then make account-apply REGION={region}")
    report.fail("API Gateway logging role",
                f"API Gateway has no CloudWatch Logs role in {region}: a stage with logging fails to deploy",
                f"{how}\nor switch logging off in {rel}/terraform.tfvars: access_logging = false and execution_logging_level = \"OFF\".")


# What each environment needs of Lambda's concurrency quota before it takes traffic: a frame holds two
# executions for about 75 ms (the proxy waits while the backend runs; docs/cost.md, Scale), so a new
# account's 10 carry about 133 messages a second, 1,000 about 13,000. Dev is told, never refused.
NEEDED_CONCURRENCY = {"staging": 100, "prod": 1000}
FRAME_SECONDS_HELD = 0.075


def check_concurrency_quota(report: Report, region: str, env: str, skipped: set) -> None:
    if "concurrency" in skipped:
        report.skip("concurrency quota", "PREFLIGHT_SKIP=concurrency (the account's quota is not checked)")
        return
    try:
        total = int(aws("lambda", "get-account-settings", region=region)["AccountLimit"]["ConcurrentExecutions"])
    except (AwsError, KeyError, TypeError, ValueError) as e:
        report.warn("concurrency quota", f"cannot read Lambda's account settings in {region}: {getattr(e, 'message', e)}",
                    "the deploying identity needs lambda:GetAccountSettings; the account's quota is not checked.")
        return
    carries = int(total / FRAME_SECONDS_HELD)
    needed = NEEDED_CONCURRENCY.get(env, 1000)
    if total >= needed:
        report.ok("concurrency quota", f"{total} concurrent executions in {region}: about {carries:,} messages a second")
        return
    problem = (f"the account's quota is {total} concurrent executions in {region}: about {carries:,} messages a second "
               f"(two executions per frame for {FRAME_SECONDS_HELD * 1000:.0f} ms)")
    fix = ("ask AWS before traffic: aws service-quotas request-service-quota-increase --service-code lambda \\\n"
           f"  --quota-code L-B99A9384 --desired-value {max(needed, 1000)} --region {region}")
    if env in NEEDED_CONCURRENCY:
        report.fail("concurrency quota", f"{problem}, below the {needed} {env} needs", fix)
    else:
        report.warn("concurrency quota", problem, fix)


def check_concurrency(report: Report, values: dict, region: str, env: str, rel: str, skipped: set) -> None:
    reserved = values.get("lambda_reserved_concurrency")
    if reserved is None:
        report.ok("concurrency", "no reservation (the function shares the account's unreserved pool)")
        return
    if "concurrency" in skipped:
        report.skip("concurrency", f"PREFLIGHT_SKIP=concurrency (the reservation of {reserved} is not checked against the quota)")
        return
    if isinstance(reserved, Unreadable) or not float(reserved).is_integer() or reserved < 1:
        report.fail("concurrency", f"lambda_reserved_concurrency = {getattr(reserved, 'text', reserved)} is not a whole number >= 1",
                    f"in {rel}/terraform.tfvars: remove it (unreserved) or reserve at least 1.")
        return
    try:
        limits = aws("lambda", "get-account-settings", region=region)["AccountLimit"]
    except (AwsError, KeyError) as e:
        report.fail("concurrency", f"cannot read Lambda's account settings in {region}: {getattr(e, 'message', e)}",
                    "the deploying identity needs lambda:GetAccountSettings.")
        return
    function = f"booking-chat-{env}-proxy"  # the name module booking-chat gives the function
    current = 0
    try:
        current = aws("lambda", "get-function-concurrency", "--function-name", function, region=region).get("ReservedConcurrentExecutions") or 0
    except AwsError as e:
        if e.code != "ResourceNotFoundException":
            report.fail("concurrency", f"cannot read {function}'s reservation: {e.message}",
                        "the deploying identity needs lambda:GetFunctionConcurrency.")
            return
    total = limits.get("ConcurrentExecutions")
    unreserved = limits.get("UnreservedConcurrentExecutions")
    left = unreserved + current - int(reserved)
    if left < MIN_UNRESERVED:
        most = unreserved + current - MIN_UNRESERVED
        report.fail("concurrency",
                    f"reserving {int(reserved)} would leave {left} of the account's {total} unreserved in {region}; Lambda keeps at least {MIN_UNRESERVED}",
                    (f"in {rel}/terraform.tfvars: lambda_reserved_concurrency = {most} or less, or remove it,\n" if most >= 1 else
                     f"in {rel}/terraform.tfvars: remove lambda_reserved_concurrency (the quota leaves nothing to reserve),\n")
                    + "or raise the quota: aws service-quotas request-service-quota-increase --service-code lambda \\\n"
                    f"  --quota-code L-B99A9384 --desired-value {total + MIN_UNRESERVED} --region {region}")
        return
    report.ok("concurrency", f"reserving {int(reserved)} leaves {left} of {total} unreserved in {region}")


def check_chat_events(report: Report, values: dict, region: str, env: str, rel: str) -> None:
    """The chat events' bus (booking-chat-<env>) carries the app's own rules, which Terraform does not know
    of: EventBridge refuses to delete a bus that has rules, so switching chat_events off would fail halfway
    through the apply. With it on there is nothing to check: the apply creates the bus, or keeps it."""
    bus = f"booking-chat-{env}"  # the name module booking-chat gives the bus
    if values.get("chat_events", True) is not False:
        archive = values.get("chat_events_archive_retention_days")
        kept = f", archived for {archive} days" if archive is not None else ""
        report.ok("chat events", f"on: the EventBridge bus {bus}{kept}")
        return
    try:
        rules = aws("events", "list-rules", "--event-bus-name", bus, region=region).get("Rules", [])
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            report.ok("chat events", f"off (there is no bus {bus} in {region})")
        else:
            report.fail("chat events", f"cannot list the rules of the bus {bus} in {region}: {e.message}",
                        "the deploying identity needs events:ListRules on it.")
        return
    # An archive's own rule (ManagedBy EventBridge) goes with the archive, and the notifications' rule with
    # the notifications (which need the bus): Terraform deletes both before the bus.
    own = {f"{bus}-notifications"}
    apps = sorted(rule["Name"] for rule in rules if not rule.get("ManagedBy") and rule["Name"] not in own)
    if apps:
        first = apps[0]
        report.fail("chat events",
                    f"chat_events = false deletes the bus {bus}, and EventBridge refuses while it has rules: {', '.join(apps)}",
                    "remove the app's rules from the bus first (in the app's Terraform, or for each rule:\n"
                    f"aws events list-targets-by-rule --region {region} --event-bus-name {bus} --rule {first}\n"
                    f"aws events remove-targets --region {region} --event-bus-name {bus} --rule {first} --ids ID...\n"
                    f"aws events delete-rule --region {region} --event-bus-name {bus} --name {first}),\n"
                    f"or keep chat_events = true in {rel}/terraform.tfvars.")
        return
    report.ok("chat events", f"off: the bus {bus} has no rules of the app, and the apply deletes it")


def list_attribute(value, name: str) -> list | None:
    """A list of strings that is one attribute of an object from tfvars or a TF_VAR_ value (`name = [...]`
    or `"name": [...]`); None if there is none, or it is not a list of strings."""
    text = value.text if isinstance(value, Unreadable) else value
    if not isinstance(text, str):
        return None
    match = re.search(r'(?:"' + re.escape(name) + r'"|\b' + re.escape(name) + r')\s*[=:]\s*(\[[^\]]*\])', text)
    return string_list(match.group(1)) if match else None


def vapid_public_key_problem(key: str) -> str | None:
    """Why a VAPID public key is not one browsers can subscribe with (base64url without padding of an
    uncompressed P-256 point), or None. Terraform checks its shape; only arithmetic tells a mistyped key."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return "it is not base64url (A-Z, a-z, 0-9, - and _, no padding)"
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except ValueError:  # binascii.Error: a length no base64 has
        return f"{len(key)} characters are no base64url encoding"
    if len(raw) != 65 or raw[0] != 4:
        return f"it decodes to {len(raw)} bytes, not the 65 of an uncompressed point (0x04, x, y)"
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if x >= P256_P or y >= P256_P or (y * y - (x * x * x - 3 * x + P256_B)) % P256_P != 0:
        return "it is not a point of the P-256 curve (a character changed or missing?)"
    return None


def check_web_push(report: Report, values: dict, rel: str) -> None:
    """With web_push, the public key must be a P-256 point (a mistyped one makes every browser's subscribe
    fail), and the push services' hosts, when set, should be public https hosts and include the browsers'
    own: the list replaces the built-in one. The private key is checked with the other secrets (it exists);
    that it is the public key's other half only the notifier can tell, at its first push."""
    raw = values.get("web_push")
    if raw is None:
        report.ok("Web Push", "off (emails only, if any)")
        return
    example = (f'in {rel}/terraform.tfvars: web_push = {{ public_key = "B...", subject = "mailto:ops@yourcompany.com" }}\n'
               f"with a key pair made so:\n{VAPID_KEYS_HOWTO}")
    web_push = flat_object(raw)
    missing = [key for key in ("public_key", "subject") if not isinstance((web_push or {}).get(key), str) or not web_push[key]]
    if web_push is None or missing:
        report.fail("Web Push", f"web_push lacks {', '.join(missing) or 'public_key and subject'}", example)
        return
    if values.get("notifications") is None:
        report.fail("Web Push", "web_push needs notifications: the notifier sends the pushes",
                    f"in {rel}/terraform.tfvars: set notifications too, or remove web_push.")
        return
    problem = vapid_public_key_problem(web_push["public_key"])
    if problem:
        report.fail("Web Push", f"web_push.public_key is not a VAPID public key: {problem}",
                    "make a new key pair (and put its private half in the vapid_private_key_* secret, replacing the old):\n"
                    + VAPID_KEYS_HOWTO)
        return
    subject = web_push["subject"]
    if not re.match(r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$", subject):
        report.fail("Web Push", f"web_push.subject = {subject!r} is neither mailto:address nor an https:// URL (RFC 8292)",
                    f'in {rel}/terraform.tfvars: subject = "mailto:ops@yourcompany.com" (whom the push services contact).')
        return
    hosts = list_attribute(raw, "endpoint_hosts")
    if hosts is None:
        report.ok("Web Push", f"public key a P-256 point, subject {subject}, the browsers' push services ({', '.join(BROWSER_PUSH_HOSTS)})")
        return
    not_public = [host for host in hosts if NOT_A_PUBLIC_HOST.search(host.lower()) or "/" in host or "." not in host]
    if not_public:
        report.warn("Web Push", f"web_push.endpoint_hosts names hosts no push service answers https on: {', '.join(not_public)}",
                    "the notifier POSTs to push services over https on the internet: a reserved, local or private name,\n"
                    "an address or a URL there admits subscriptions whose pushes cannot be delivered (Terraform refuses\n"
                    "addresses and URLs). Name the push services' public host suffixes, such as fcm.googleapis.com.")
    # A browser's push service is kept by its suffix, a parent of it, or a narrower name under it (Apple's
    # pushes all go to web.push.apple.com).
    dropped = [f"{host} ({browsers})" for host, browsers in BROWSER_PUSH_HOSTS.items()
               if not any(host == allowed or host.endswith("." + allowed) or allowed.endswith("." + host)
                          for allowed in (a.lower() for a in hosts))]
    if dropped:
        report.warn("Web Push", f"web_push.endpoint_hosts replaces the browsers' push services, and leaves out {', '.join(dropped)}",
                    "the backend refuses those browsers' subscriptions, and the notifier never pushes to them. Keep them\n"
                    "in the list beside your own, or remove endpoint_hosts for the built-in list.")
    if not not_public and not dropped:
        report.ok("Web Push", f"public key a P-256 point, subject {subject}, push services {', '.join(hosts)}")


def check_notifications(report: Report, values: dict, region: str, env: str, rel: str) -> None:
    """With notifications, the notifier sends as an SES identity: it must exist in the region and be
    verified for sending (else every email is refused), the configuration set it names must exist, and the
    account must be allowed to send. An account still in the SES sandbox sends to verified addresses only:
    said as a warning, since a test environment may want exactly that."""
    raw = values.get("notifications")
    if raw is None:
        report.ok("notifications", "off (no notifier)")
        return
    example = (f"in {rel}/terraform.tfvars: notifications = {{ email_from = \"Booking chat <chat@yourcompany.com>\",\n"
               "booking_url = \"https://app.yourcompany.com/bookings/{booking_id}/chat\", ses_identity = \"yourcompany.com\" }"
               " (docs/deploying.md, Email notifications).")
    notifications = flat_object(raw)
    missing = [key for key in ("email_from", "booking_url", "ses_identity")
               if not isinstance((notifications or {}).get(key), str) or not notifications[key]]
    if notifications is None or missing:
        report.fail("notifications", f"notifications lacks {', '.join(missing) or 'email_from, booking_url and ses_identity'}", example)
        return
    if values.get("chat_events", True) is False or values.get("backend_url") is not None:
        report.fail("notifications", "notifications need chat_events = true and the backend function (no backend_url)",
                    f"in {rel}/terraform.tfvars: remove notifications, or remove chat_events = false and backend_url.")
        return
    identity = notifications["ses_identity"]
    is_address = "@" in identity
    create = (f"aws sesv2 create-email-identity --region {region} --email-identity {identity}\n"
              + ("then open the link SES emails to that address." if is_address else
                 f"then publish the DKIM records it prints (aws sesv2 get-email-identity --region {region}\n"
                 f"--email-identity {identity} --query DkimAttributes.Tokens: CNAMEs <token>._domainkey.{identity}\n"
                 "-> <token>.dkim.amazonses.com) and wait until SES has verified them."))
    try:
        found = aws("sesv2", "get-email-identity", "--email-identity", identity, region=region)
    except AwsError as e:
        if e.code in ("NotFoundException", "BadRequestException"):
            report.fail("SES identity", f"{identity} is not an SES identity in {region}: the notifier could send nothing", create)
        else:
            report.fail("SES identity", f"cannot read the SES identity {identity} in {region}: {e.message}",
                        "the deploying identity needs ses:GetEmailIdentity on it.")
        return
    if found.get("VerifiedForSendingStatus") is not True:
        status = found.get("VerificationStatus") or "not verified"
        report.fail("SES identity", f"{identity} is not verified for sending in {region} ({status}): SES refuses every email from it",
                    f"finish its verification: {create}")
        return
    report.ok("SES identity", f"{identity} verified for sending in {region}, From {notifications['email_from']}")
    configuration_set = notifications.get("configuration_set")
    if configuration_set is not None:
        try:
            aws("sesv2", "get-configuration-set", "--configuration-set-name", str(configuration_set), region=region)
            report.ok("SES configuration set", f"{configuration_set} in {region}")
        except AwsError as e:
            if e.code == "NotFoundException":
                report.fail("SES configuration set", f"{configuration_set} does not exist in {region}: SES refuses an email naming it",
                            f"aws sesv2 create-configuration-set --region {region} --configuration-set-name {configuration_set}\n"
                            f"or remove configuration_set from notifications in {rel}/terraform.tfvars.")
            else:
                report.fail("SES configuration set", f"cannot read {configuration_set} in {region}: {e.message}",
                            "the deploying identity needs ses:GetConfigurationSet on it.")
    try:
        account = aws("sesv2", "get-account", region=region)
    except AwsError as e:
        report.fail("SES account", f"cannot read the SES account settings in {region}: {e.message}",
                    "the deploying identity needs ses:GetAccount.")
        return
    if account.get("SendingEnabled") is False:
        report.fail("SES account", f"sending is paused for this account in {region} ({account.get('EnforcementStatus', '?')})",
                    f"see why in the SES console (reputation), then aws sesv2 put-account-sending-attributes --region {region} --sending-enabled.")
        return
    quota = account.get("SendQuota") or {}
    count = lambda key: f"{quota[key]:g}" if isinstance(quota.get(key), (int, float)) else "?"
    limits = f"{count('Max24HourSend')} emails a day, {count('MaxSendRate')} a second"
    if account.get("ProductionAccessEnabled") is not True:
        report.warn("SES account", f"the account is in the SES sandbox in {region} ({limits}): only verified addresses receive the notifications",
                    "fine for a test environment; for members to receive them, request production access:\n"
                    f"aws sesv2 put-account-details --region {region} --production-access-enabled --mail-type TRANSACTIONAL \\\n"
                    "  --website-url https://app.yourcompany.com --use-case-description '...' (SES answers within a day).")
        return
    report.ok("SES account", f"production access in {region} ({limits})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["env", "account"])
    parser.add_argument("name", help="dev, staging or prod; or a region for the account root")
    parser.add_argument("--envs-dir", type=Path, default=ROOT / "envs", help="where the roots are (tests use a copy)")
    args = parser.parse_args()

    skipped = {s.strip() for s in os.environ.get("PREFLIGHT_SKIP", "").split(",") if s.strip()}
    if skipped - SKIPPABLE:
        print(f"PREFLIGHT_SKIP may name only {', '.join(sorted(SKIPPABLE))}, not {', '.join(sorted(skipped - SKIPPABLE))}", file=sys.stderr)
        return 2

    rel = f"envs/{args.name}" if args.kind == "env" else f"envs/account/{args.name}"
    root = args.envs_dir / (args.name if args.kind == "env" else f"account/{args.name}")
    if not root.is_dir():
        print(f"no root {rel}", file=sys.stderr)
        return 2
    print(f"preflight for {rel}:")
    report = Report()
    check_backend(report, root, rel)
    check_lock_file(report, root, rel)

    if args.kind == "account":
        region = args.name
        if check_credentials(report, region):
            try:
                role = aws("apigateway", "get-account", region=region).get("cloudwatchRoleArn")
                report.ok("API Gateway logging role", f"currently {role}: this root replaces it" if role else f"none yet in {region}")
            except AwsError as e:
                report.fail("API Gateway logging role", f"cannot read API Gateway's account settings in {region}: {e.message}",
                            "the deploying identity needs apigateway:GET on /account.")
    else:
        values = root_values(root)
        region = values.get("region")
        if not isinstance(region, str):
            report.fail("region", "region is not set", f"in {rel}/terraform.tfvars: region = \"eu-west-1\" (for example).")
            return 1
        check_identity(report, values, root, args.name, rel, args.envs_dir)
        check_backend_url(report, values, args.name, rel)
        check_cors(report, values, rel)
        check_attachments(report, values, args.name, rel, root)
        check_retention(report, values, args.name, rel)
        check_web_push(report, values, rel)
        if check_credentials(report, region):
            for secret in secrets_needed(values):
                check_secret(report, values, secret, region, args.name, rel)
            check_domains(report, values, region, rel)
            check_alarm_topic(report, values, region, args.name, rel)
            check_apigateway_account(report, values, region, rel)
            check_concurrency(report, values, region, args.name, rel, skipped)
            check_concurrency_quota(report, region, args.name, skipped)
            check_chat_events(report, values, region, args.name, rel)
            check_notifications(report, values, region, args.name, rel)
            check_attachments_key(report, values, region, rel)

    if report.failed:
        print(f"preflight: {report.failed} check(s) failed; nothing was packaged or applied.")
        return 1
    print("preflight: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
