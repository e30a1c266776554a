# Booking chat: every developer and CI entry point. `make` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# `make token USER_ID=bob`
USER_ID ?= alice

.PHONY: help dev test lint fmt token clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

dev: ## Run the local stack with embedded defaults (backend on http://127.0.0.1:8000, SQLite under .data/)
	@echo "Backend:   http://127.0.0.1:8000/  (demo page: alice and bob on booking 1)"
	@echo "Direct WS: ws://127.0.0.1:8000/chat/ws/1?token=\$$(make -s token USER_ID=alice)"
	APP_ENV=local $(CARGO) run --quiet -p chat-backend -- serve

test: ## Run every test (SQLite and a real PostgreSQL started from the machine's binaries)
	@mkdir -p target
	$(CARGO) test --workspace --doc --locked 2>&1 | tee target/test-doc.log
	$(CARGO) test --workspace --all-targets --locked 2>&1 | tee target/test.log
	@awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "cargo: %d passed, %d failed\n", passed, failed }' \
		target/test-doc.log target/test.log

lint: ## Check formatting and run clippy with warnings denied
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

token: ## Print a local JWT for USER_ID (default alice)
	@APP_ENV=local $(CARGO) run --quiet -p chat-backend -- token --user $(USER_ID)

clean: ## Remove build output and local data
	$(CARGO) clean
	rm -rf .data
