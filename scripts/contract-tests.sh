#!/usr/bin/env bash
# The contracts' checks (tools/contracts, node's test runner): docs/asyncapi.yaml validated by
# @asyncapi/parser and held against chat-wire's frames, the backend's OpenAPI document linted by Redocly with
# the recommended rules and held against the backend's router, .env.example against the settings' source,
# lambda/events/ against the emulator's events, the API reference pages of `make api-docs` (self-contained,
# complete). Installs the npm packages from the committed lock file; offline afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd tools/contracts && npm ci --no-audit --no-fund --loglevel=error)
node --test --test-reporter=tap tools/contracts/
