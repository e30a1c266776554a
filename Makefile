# Booking chat: every developer and CI entry point. `make` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

## The cargo of the Rust targets (dev, test, lint, fmt, bench, smoke, token, clean)
CARGO ?= cargo
## The user `make token` mints a local JWT for (`make token USER_ID=bob`)
USER_ID ?= alice
## Lambda architecture, arm64 (Graviton) or x86_64: `make package` builds it, plan and apply pass it to Terraform
ARCH ?= arm64
## Region of the one-time account root of account-plan/account-apply (envs/account/REGION)
REGION ?= eu-west-1
TOOLS := $(CURDIR)/.tools
LAMBDA_DIR := target/lambda/$(ARCH)
LAMBDA_ZIP := $(LAMBDA_DIR)/chat-proxy/bootstrap.zip
BACKEND_ZIP := $(LAMBDA_DIR)/chat-backend-lambda/bootstrap.zip
NOTIFIER_ZIP := $(LAMBDA_DIR)/chat-notifier/bootstrap.zip
MEDIA_ZIP := $(LAMBDA_DIR)/chat-media/bootstrap.zip

## The terraform command of the tf-*, plan, apply and destroy targets
TERRAFORM ?= terraform
# Offline, this machine's provider mirror; elsewhere the public registry.
TF_ENV := $(if $(wildcard /opt/tf-plugins),TF_CLI_CONFIG_FILE=$(CURDIR)/terraform/mirror.tfrc,)
TF_MODULES := $(wildcard terraform/modules/*)
TF_ENVS := envs/dev envs/staging envs/prod
TF_ROOTS := $(TF_ENVS) $(wildcard envs/account/*)
# The backend function's zip, which `make package` builds beside the proxy's.
BACKEND_LAMBDA_ZIP := $(LAMBDA_DIR)/chat-backend-lambda/bootstrap.zip
# The packages and their architecture always travel together, whatever the tfvars say. The paths are
# relative to envs/<env>, as in state: an absolute one would differ between machines and republish the
# functions. (With backend_url set the root ignores backend_package_path: there is no backend function;
# without notifications it ignores notifier_package_path, without attachments media_package_path.)
TF_VARS = -var 'lambda_architecture=$(ARCH)' -var 'lambda_package_path=../../$(LAMBDA_ZIP)' \
	-var 'backend_package_path=../../$(BACKEND_LAMBDA_ZIP)' -var 'notifier_package_path=../../$(NOTIFIER_ZIP)' \
	-var 'media_package_path=../../$(MEDIA_ZIP)'
HCL_PYTHON := $(TOOLS)/hcl/bin/python

.PHONY: help dev dev-lambda api-docs openapi watch test test-deps lint fmt token clean reset-data package smoke bench fuzz tf-check tf-test tf-moto tf-docs tf-lock tf-env plan apply destroy account-plan account-apply web

help: ## List the targets, and the variables you can set (`make VAR=value ...`) with their defaults
	@# Bold names on a terminal only: piped or redirected, the output is plain text (NO_COLOR is honoured).
	@if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then b='\033[1m'; r='\033[0m'; else b=; r=; fi; \
	echo "Targets:"; \
	awk -v b="$$b" -v r="$$r" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-14s%s %s\n", b, $$1, r, $$2}' $(MAKEFILE_LIST); \
	echo; echo "Variables (default in brackets):"; \
	awk -v b="$$b" -v r="$$r" '/^## / {doc = doc (doc == "" ? "" : " ") substr($$0, 4); next} \
		/^[A-Z_]+ *\?=/ {value = $$0; sub(/^[A-Z_]+ *\?= */, "", value); \
			printf "  %s%-14s%s %s [%s]\n", b, $$1, r, (doc == "" ? "(undocumented)" : doc), value} {doc = ""}' $(MAKEFILE_LIST)

dev: web api-docs ## Run the whole stack: backend :8000, API Gateway emulator :3001 with the Lambda in-process, demo page, API reference at /docs, the notifier emailing through SES on moto (CHAT_STORE=dynamodb: on moto)
	@command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
	@# Built first with cargo's progress (a first build takes minutes), then run without cargo's lines.
	$(CARGO) build -p dev-stack --bin chat-dev
	APP_ENV=local $(CARGO) run --quiet -p dev-stack --bin chat-dev

dev-lambda: web api-docs ## `make dev` with the compiled Lambda binary behind the emulator (Runtime API, records on moto), same ports: make smoke works
	@command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
	$(CARGO) build -p dev-stack --bin chat-dev -p chat-proxy --bin chat-proxy
	APP_ENV=local $(CARGO) run --quiet -p dev-stack --bin chat-dev -- --lambda

## Where `make api-docs` writes the API reference pages (the backend serves them at /docs from STATIC_DIR/api-docs)
API_DOCS ?= web/api-docs
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true tools/contracts/node_modules/.bin/redocly build-docs --inlineBundle
api-docs: $(API_DOCS)/http.html $(API_DOCS)/websocket.html $(API_DOCS)/asyncapi.yaml ## Build the API reference pages, offline: HTTP (OpenAPI) and WebSocket (AsyncAPI) APIs, served at /docs by make dev

# Redoc's bundle goes inside each page (--inlineBundle): no CDN, nothing to fetch when the page opens. The
# npm packages are an order-only prerequisite: contract-tests.sh reinstalls them, which is no reason to rebuild.
# Redocly's own chatter (a Node version notice) goes to a log, shown only when the build fails.
$(API_DOCS)/http.html: backend/openapi.json | tools/contracts/node_modules/.package-lock.json
	@mkdir -p $(@D) target
	@($(REDOCLY) --title 'Booking chat HTTP API' -o $@ $<) >target/api-docs.log 2>&1 || \
		{ cat target/api-docs.log >&2; exit 1; }
	@echo "API reference: $@"

$(API_DOCS)/websocket.html: docs/asyncapi.yaml | tools/contracts/node_modules/.package-lock.json
	@mkdir -p $(@D) target
	@($(REDOCLY) --title 'Booking chat WebSocket API' -o $@ $<) >target/api-docs.log 2>&1 || \
		{ cat target/api-docs.log >&2; exit 1; }
	@echo "API reference: $@"

$(API_DOCS)/asyncapi.yaml: docs/asyncapi.yaml
	@mkdir -p $(@D)
	cp $< $@

openapi: ## Write backend/openapi.json from the backend's routes and types (make test fails while it differs from them)
	@mkdir -p target
	$(CARGO) run -p chat-backend --bin chat-backend -- openapi >target/openapi.json
	@if cmp -s target/openapi.json backend/openapi.json; then echo "backend/openapi.json: unchanged"; \
	else mv target/openapi.json backend/openapi.json; echo "backend/openapi.json: written"; fi

tools/contracts/node_modules/.package-lock.json: tools/contracts/package-lock.json
	cd tools/contracts && npm ci --no-audit --no-fund --loglevel=error

# What `make watch` rebuilds on: every crate chat-dev links (all of the workspace's), their manifests, and
# the files compiled into them (the SQL migrations). Tests, docs and web/ are not.
WATCH_CRATES := wire settings connections store backend notifier lambda emulator dev-stack smoke local-services
WATCH_PATHS := Cargo.toml Cargo.lock $(foreach crate,$(WATCH_CRATES),$(crate)/src $(crate)/Cargo.toml) \
	store/migrations

watch: web api-docs ## `make dev` that rebuilds and restarts on a change to the Rust sources, and rebuilds the widget on web/src
	@# The same build and environment as `make dev`; the program is the binary itself, so that a restart
	@# does not wait for cargo. A failed build keeps the running stack. Each build also writes the OpenAPI
	@# document (when the routes changed it), which rebuilds the API reference pages. Ctrl-C stops everything.
	@target=$$($(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'); \
	APP_ENV=local exec python3 scripts/dev-watch.py $(addprefix --watch ,$(WATCH_PATHS)) \
		--build '$(CARGO) build -p dev-stack --bin chat-dev && $(MAKE) --no-print-directory openapi' \
		--on-change web/src '$(MAKE) --no-print-directory web' \
		--on-change backend/openapi.json '$(MAKE) --no-print-directory api-docs' \
		--on-change docs/asyncapi.yaml '$(MAKE) --no-print-directory api-docs' \
		-- "$$target/debug/chat-dev"

test: test-deps $(TOOLS)/venv/bin/cargo-lambda ## Run every test: make help, the API contracts, Rust (SQLite, PostgreSQL, moto, the emulator), the widget (unit, Chromium), fuzzing, Terraform; suites side by side, each phase's time at the end
	scripts/test-all.sh

test-deps: # The services tests start: PostgreSQL binaries come with the machine, moto from PyPI when missing
	@command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "$${PG_BIN:-}" ] || \
		{ echo "PostgreSQL server binaries are missing: apt-get install postgresql (or set PG_BIN)" >&2; exit 1; }

web: web/node_modules/.package-lock.json ## Build the chat widget package: web/dist (client + <booking-chat>, types); `cd web && npm pack` packs it
	cd web && npm run --silent build

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

lint: ## Check formatting, run clippy with warnings denied, and refuse any DynamoDB Scan
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@if grep -rnE '\.scan\(\)|ScanInput|ScanOutput|scan_paginator' --include='*.rs' wire settings connections store backend notifier lambda local-services; then \
		echo "DynamoDB Scan is not allowed: query the booking's partition instead" >&2; exit 1; fi

fuzz: ## Fuzz the parsers of untrusted input (cargo fuzz; FUZZ_RUNS inputs per target, default 1,000,000)
	scripts/fuzz.sh

fmt: ## Format the code
	$(CARGO) fmt --all

$(TOOLS)/checkov/bin/checkov:
	python3 -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet --disable-pip-version-check 'checkov>=3.2,<4'

$(HCL_PYTHON):
	python3 -m venv $(TOOLS)/hcl
	$(TOOLS)/hcl/bin/pip install --quiet --disable-pip-version-check 'python-hcl2>=8,<9'

tf-check: tf-test tf-moto ## Terraform offline: tf-test and tf-moto

tf-test: $(TOOLS)/checkov/bin/checkov $(HCL_PYTHON) ## Terraform's static checks: fmt, module READMEs, validate, terraform test (mocked AWS), checkov
	$(TF_ENV) $(TERRAFORM) fmt -check -recursive terraform envs
	$(HCL_PYTHON) scripts/tf-module-docs.py
	@# Own data directories: checks never touch (or trip over) a root initialised for a real backend.
	@for dir in $(TF_MODULES) $(TF_ROOTS); do \
		echo "== $$dir"; \
		data="$(CURDIR)/target/tf-check/$$(echo $$dir | tr / _)"; \
		(cd $$dir && export TF_DATA_DIR="$$data" && \
			$(TF_ENV) $(TERRAFORM) init -backend=false -input=false -no-color >/dev/null && \
			$(TF_ENV) $(TERRAFORM) validate -no-color && $(TF_ENV) $(TERRAFORM) test -no-color) || exit 1; \
	done
	$(TOOLS)/checkov/bin/checkov --quiet --compact --skip-download --framework terraform -d terraform -d envs

tf-moto: ## Terraform on moto: envs/dev applied, planned again and destroyed, and the deploy preflight (scripts/terraform-moto-test.sh)
	scripts/terraform-moto-test.sh

tf-docs: $(HCL_PYTHON) ## Rewrite the inputs and outputs tables of every module README from variables.tf and outputs.tf
	$(HCL_PYTHON) scripts/tf-module-docs.py --write

tf-lock: ## Rewrite the roots' provider lock files: every platform from the registry, or linux_amd64 from /opt/tf-plugins
	@for dir in $(TF_ROOTS); do \
		echo "== $$dir"; \
		data="$(CURDIR)/target/tf-lock/$$(echo $$dir | tr / _)"; \
		(cd $$dir && export TF_DATA_DIR="$$data" && \
			$(TF_ENV) $(TERRAFORM) init -backend=false -input=false -no-color >/dev/null && \
			if [ -d /opt/tf-plugins ]; then \
				$(TF_ENV) $(TERRAFORM) providers lock -no-color -fs-mirror=/opt/tf-plugins -platform=linux_amd64; \
			else \
				$(TERRAFORM) providers lock -no-color -platform=linux_amd64 -platform=linux_arm64 \
					-platform=darwin_amd64 -platform=darwin_arm64 -platform=windows_amd64; \
			fi) || exit 1; \
	done

tf-env:
	@case "$(ENV)" in dev|staging|prod) ;; *) echo "set ENV=dev, staging or prod" >&2; exit 2 ;; esac

$(TF_ROOTS:%=%/backend.hcl):
	@echo "missing $@: copy $@.example and name your state bucket (docs/deploying.md, First apply, step 2)" >&2; exit 1

plan: tf-env ## Preflight, then terraform plan ENV=dev|staging|prod with the ARCH packages (build them first: make package)
	scripts/preflight.py env $(ENV)
	@python3 scripts/check-lambda-zip.py $(LAMBDA_ZIP) $(ARCH)
	@python3 scripts/check-lambda-zip.py $(BACKEND_LAMBDA_ZIP) $(ARCH)
	@python3 scripts/check-lambda-zip.py $(NOTIFIER_ZIP) $(ARCH)
	@python3 scripts/check-lambda-zip.py $(MEDIA_ZIP) $(ARCH)
	cd envs/$(ENV) && $(TF_ENV) $(TERRAFORM) init -input=false -backend-config=backend.hcl && $(TF_ENV) $(TERRAFORM) plan -input=false $(TF_VARS)

apply: tf-env ## Preflight (seconds), package the Lambdas for ARCH (minutes), then terraform apply ENV=dev|staging|prod
	scripts/preflight.py env $(ENV)
	$(MAKE) --no-print-directory package ARCH=$(ARCH)
	cd envs/$(ENV) && $(TF_ENV) $(TERRAFORM) init -input=false -backend-config=backend.hcl && $(TF_ENV) $(TERRAFORM) apply -input=false $(TF_VARS)

destroy: tf-env envs/$(ENV)/backend.hcl ## terraform destroy ENV=dev|staging|prod (the ARCH zips must exist; the tables refuse while deletion protection is on)
	cd envs/$(ENV) && $(TF_ENV) $(TERRAFORM) init -input=false -backend-config=backend.hcl && $(TF_ENV) $(TERRAFORM) destroy -input=false $(TF_VARS)

account-plan: ## terraform plan of the one-time account root of REGION (API Gateway's CloudWatch Logs role)
	scripts/preflight.py account $(REGION)
	cd envs/account/$(REGION) && $(TF_ENV) $(TERRAFORM) init -input=false -backend-config=backend.hcl && $(TF_ENV) $(TERRAFORM) plan -input=false

account-apply: ## Once per account and region, before the first environment there: API Gateway's CloudWatch Logs role
	scripts/preflight.py account $(REGION)
	cd envs/account/$(REGION) && $(TF_ENV) $(TERRAFORM) init -input=false -backend-config=backend.hcl && $(TF_ENV) $(TERRAFORM) apply -input=false

bench: package ## Benchmarks (prints numbers): AWS calls per event, latency by path, cost against table size, cold start, memory, the zip
	$(CARGO) build --profile deploy-proxy --locked -p chat-proxy --bin chat-proxy
	$(CARGO) build --release --locked -p dev-stack --bin chat-dev --bin chat-bench --bin chat-memory
	target/release/chat-bench
	target/release/chat-memory

## local (`make dev`'s stack, for smoke) or dev, staging, prod (smoke, plan, apply, destroy)
ENV ?= local
## The booking `make smoke` chats in; with ENV=dev|staging|prod also set SMOKE_TOKEN_A and SMOKE_TOKEN_B
SMOKE_BOOKING ?= 1
smoke: ## Two-client smoke test: against `make dev` (default), or ENV=dev|staging|prod with SMOKE_JWT_SECRET or SMOKE_TOKEN_A/B set
	@$(CARGO) build -p chat-smoke --bin chat-smoke
	@if [ "$(ENV)" = local ]; then \
		$(CARGO) run --quiet -p chat-smoke -- --url ws://127.0.0.1:3001/local --booking $(SMOKE_BOOKING) --jwt-secret local-dev-secret; \
	else \
		url=$$($(TERRAFORM) -chdir=envs/$(ENV) output -raw websocket_url 2>/dev/null) || \
			{ echo "no websocket_url output in envs/$(ENV): run make apply ENV=$(ENV) first" >&2; exit 1; }; \
		if [ -z "$${SMOKE_JWT_SECRET:-}" ]; then \
			: "$${SMOKE_TOKEN_A:?set SMOKE_JWT_SECRET to the JWT secret of the environment (tokens of alice and bob are minted from it), or SMOKE_TOKEN_A and SMOKE_TOKEN_B to tokens of two members of booking $(SMOKE_BOOKING)}"; \
			: "$${SMOKE_TOKEN_B:?set SMOKE_TOKEN_B}"; \
		fi; \
		$(CARGO) run --quiet -p chat-smoke -- --url "$$url" --booking $(SMOKE_BOOKING); \
	fi

token: ## Print a local JWT for USER_ID (default alice)
	@# cargo's progress goes to stderr: `$$(make -s token)` still captures the token alone.
	@$(CARGO) build -p chat-backend --bin chat-backend
	@APP_ENV=local $(CARGO) run --quiet -p chat-backend --bin chat-backend -- token --user $(USER_ID)

$(TOOLS)/venv/bin/cargo-lambda:
	python3 -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check 'cargo-lambda>=1.9.2,<2' 'ziglang>=0.13,<0.15'

# Two builds. The proxy on its own, with a profile of its own, for speed (Cargo.toml), and only its own
# crate's features (its logging leaves out the regex engine the backend's log filter brings). The other
# three in one build, so that what they share (the AWS SDK, tokio, rustls, the chat store) is compiled once
# instead of once per function.
package: $(TOOLS)/venv/bin/cargo-lambda ## Build the four Lambda zips, proxy, backend, notifier and media processor (ARCH=arm64 by default, or x86_64), with cargo-lambda
	@case "$(ARCH)" in arm64) flag=--arm64 ;; x86_64) flag=--x86-64 ;; *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;; esac; \
	PATH="$(TOOLS)/venv/bin:$$PATH"; \
	cargo lambda build --profile deploy-proxy $$flag -p chat-proxy --bin chat-proxy \
		--output-format zip --lambda-dir $(LAMBDA_DIR) && \
	cargo lambda build --profile deploy $$flag -p chat-backend -p chat-notifier -p chat-media \
		--bin chat-backend-lambda --bin chat-notifier --bin chat-media --output-format zip --lambda-dir $(LAMBDA_DIR)
	@for zip in $(LAMBDA_ZIP) $(BACKEND_ZIP) $(NOTIFIER_ZIP) $(MEDIA_ZIP); do \
		python3 scripts/check-lambda-zip.py $$zip $(ARCH) && echo "Lambda package: $$zip ($$(du -h $$zip | cut -f1), $(ARCH))"; \
	done

clean: ## Remove build output and local data
	$(CARGO) clean
	rm -rf .data

reset-data: ## Delete the local chat data (.data/: SQLite, demo bookings re-seeded at the next start), keep the build
	rm -rf .data
