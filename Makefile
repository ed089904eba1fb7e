# Knock — the two commands are `make run` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
WEB_STAMP := web/node_modules/.knock-installed
STATIC := src/knock/static/index.html

.PHONY: run test lint fmt bench bench-full bench-mixer web deps bytecode migrate e2e unit clean

run: web bytecode ## install what is missing, build the client, migrate, serve on 127.0.0.1:8000
	$(UV) run knock migrate
	$(UV) run knock serve --host $${KNOCK_HOST:-127.0.0.1} --port $${KNOCK_PORT:-8000}

test: web lint bytecode ## the whole suite: lint, client unit tests, server and browser tests
	cd web && npm test
	$(UV) run pytest -n 2 --durations=15

deps: .venv/.knock-synced

# Installed packages come with their bytecode: where PYTHONDONTWRITEBYTECODE is set (as on
# the test machines) Python would otherwise compile every module again in every process,
# 2.3 s of each server start's 3.7.
.venv/.knock-synced: pyproject.toml uv.lock Makefile
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# And Knock's own modules (only what changed is compiled again; a stale file is ignored).
bytecode: deps
	$(UV) run python -m compileall -q -j 0 src bench e2e

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web: deps $(WEB_STAMP) ## build the web client into src/knock/static (types from the server)
	$(UV) run knock export-openapi web/generated/openapi.json
	$(UV) run knock export-events web/generated/events.schema.json
	cd web && npm run gen && npm run build

migrate: deps
	$(UV) run knock migrate

lint: deps ## ruff, ruff format, mypy --strict
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy --strict src

fmt: deps
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: bytecode ## the quick benchmark run (under 5 minutes)
	$(UV) run python -m bench --quick

bench-full: bytecode
	$(UV) run python -m bench

bench-mixer: bytecode ## voice-conference mixer: capacity per core and added latency
	$(UV) run python -m bench.mixer --quick

clean:
	rm -rf var src/knock/static web/generated web/src/api/generated
