# Two commands for a newcomer: `make run` (a demo province typed end to end) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The demo and the tests protect personal data with this development key, never a real one.
DEV_SECRET := getihu-development-key-NOT-FOR-PRODUCTION

DEMO_PROVINCE   ?= 41
DEMO_YEAR       ?= 2025
DEMO_BUSINESSES ?= 20000
DEMO_HOME       ?= data

.PHONY: setup test run lint serve clean bench bench-10m web

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

run: setup
	@echo "make run: using the development key for personal data (GETIHU_SECRET is not a real secret here)."
	$(BIN)/getihu generate --province $(DEMO_PROVINCE) --year $(DEMO_YEAR) --businesses $(DEMO_BUSINESSES) \
		--out $(DEMO_HOME)/inbox/$(DEMO_PROVINCE)/$(DEMO_YEAR)
	GETIHU_SECRET=$(DEV_SECRET) $(BIN)/getihu run --province $(DEMO_PROVINCE) --year $(DEMO_YEAR) --home $(DEMO_HOME)

# Benchmarks (BENCHMARKS.md): inputs are generated once into $(BENCH_DATA) (git-ignored by default) and reused.
# Each run adds its table to BENCHMARKS.md. The 10M province needs ~30 GB of disk and up to ~12 GB of memory.
BENCH_DATA ?= $(or $(GETIHU_BENCH_DATA),bench/data)

bench: setup
	$(BIN)/python -m bench.run --businesses 1000000 --data $(BENCH_DATA) --record BENCHMARKS.md --make "make bench"

# bench-10m runs no baseline: issue 15's 10M targets are absolute (minutes, memory, growth from 1M, the rerun),
# and the SQL baseline alone would add a quarter of an hour (its 10M ratios are in BENCHMARKS.md, 2026-11-22).
bench-10m: setup
	$(BIN)/python -m bench.run --businesses 10000000 --data $(BENCH_DATA) --baselines "" --profile none \
		--record BENCHMARKS.md --make "make bench-10m"

clean:
	rm -rf $(DEMO_HOME)/inbox $(DEMO_HOME)/out $(DEMO_HOME)/work $(DEMO_HOME)/warehouse.duckdb

# A local Prefect server with the yearly and rerun deployments of provinces 23 and 41 and their 名特优新 review
# and round deployments (stop with Ctrl-C).
# Telemetry is off (a government network sends nothing out). As a service: docs/serve.md (a systemd unit).
PREFECT_PORT ?= 4200
serve: export PREFECT_SERVER_ANALYTICS_ENABLED=false
serve: export DO_NOT_TRACK=1
# the UI asks the API on PREFECT_PORT, not on Prefect's default 4200 (seen when served on a spare port)
serve: export PREFECT_UI_API_URL ?= http://127.0.0.1:$(PREFECT_PORT)/api
serve: export PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY=false
serve: setup
	@echo "make serve: starting a Prefect server on http://127.0.0.1:$(PREFECT_PORT) (UI and API), telemetry off (PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1); its log: $(DEMO_HOME)/prefect-server.log."
	@[ -n "$$GETIHU_SECRET$$GETIHU_SECRET_FILE" ] || echo "make serve: GETIHU_SECRET is not set, so runs use the development key (demo only)."
	mkdir -p $(DEMO_HOME)
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT) > $(DEMO_HOME)/prefect-server.log 2>&1 & \
	server=$$!; trap "kill $$server" EXIT INT TERM; \
	until curl -sf http://127.0.0.1:$(PREFECT_PORT)/api/health > /dev/null; do sleep 1; done; \
	secret=$${GETIHU_SECRET:-$(DEV_SECRET)}; [ -z "$$GETIHU_SECRET_FILE" ] || secret="$$GETIHU_SECRET"; \
	GETIHU_SECRET=$$secret PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api \
		$(BIN)/getihu serve --province 23 --province 41 --home $(DEMO_HOME)

# The web front (docs/web.md): 查询公示, 异议申诉 and the handlers' desk on $(DEMO_HOME), http://127.0.0.1:$(WEB_PORT)/
WEB_PORT ?= 8080
web: setup
	@[ -n "$$GETIHU_SECRET$$GETIHU_SECRET_FILE" ] || echo "make web: GETIHU_SECRET is not set, so the web front uses the development key (demo only)."
	secret=$${GETIHU_SECRET:-$(DEV_SECRET)}; [ -z "$$GETIHU_SECRET_FILE" ] || secret="$$GETIHU_SECRET"; \
	GETIHU_SECRET=$$secret $(BIN)/getihu web --home $(DEMO_HOME) --port $(WEB_PORT)
