#!/usr/bin/env python3
"""Print one of the Lambda's event fixtures (lambda/events/NAME.json) made current, for `cargo lambda invoke`.

The fixtures are what the emulator sends at a fixed moment, with `TOKEN` where the client's JWT goes. The
proxy refuses a connection older than its token or than API Gateway's two hours, so this sets the
connection's times to now, puts a fresh local token (HS256, `sub` = --user, one hour) in the handshake, and
its expiry in the authorizer's context. Stdlib only; the token is signed with JWT_SECRET, else the local
default `local-dev-secret` (what `make dev`'s backend accepts).

Usage: scripts/lambda-event.py authorizer|connect|default-send-message|disconnect [--user alice] [--booking 1]
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path

EVENTS = Path(__file__).resolve().parent.parent / "lambda" / "events"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def local_token(user: str, now: int, ttl: int, secret: str) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = b64url(json.dumps({"sub": user, "iat": now, "exp": now + ttl}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64url(signature)}"


def main() -> int:
    names = sorted(p.stem for p in EVENTS.glob("*.json"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event", choices=names)
    parser.add_argument("--user", default="alice", help="the token's sub and the context's user (default alice)")
    parser.add_argument("--booking", default="1", help="the booking_id (default 1)")
    args = parser.parse_args()

    event = json.loads((EVENTS / f"{args.event}.json").read_text())
    now_ms = int(time.time() * 1000)
    now = now_ms // 1000
    ttl = 3600
    secret = os.environ.get("JWT_SECRET") or "local-dev-secret"
    token = local_token(args.user, now, ttl, secret)

    context = event["requestContext"]
    context["connectedAt"] = now_ms
    context["requestTimeEpoch"] = now_ms
    context["requestTime"] = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
    if "authorizer" in context:
        context["authorizer"].update(
            principalId=args.user, user_id=args.user, booking_id=str(args.booking), expires_at=str(now + ttl)
        )
    for headers in (event.get("headers") or {}, event.get("multiValueHeaders") or {}):
        for name, value in headers.items():
            if isinstance(value, list):
                headers[name] = [v.replace("TOKEN", token) for v in value]
            else:
                headers[name] = value.replace("TOKEN", token)
    for query in (event.get("queryStringParameters") or {}, event.get("multiValueQueryStringParameters") or {}):
        if "booking_id" in query:
            query["booking_id"] = [str(args.booking)] if isinstance(query["booking_id"], list) else str(args.booking)
    json.dump(event, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
