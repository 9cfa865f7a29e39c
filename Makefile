# Research Desk — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# `make team`: a local team set-up on loopback (ports and folder may be changed here)
TEAM_DIR ?= data/team
TEAM_PORT ?= 8680
TEAM_APP_PORTS ?= 8601,8602
TEAM_POSTGRES_PORT ?= 5441
TEAM_REDIS_PORT ?= 6390
BACKUP_DIR ?= backups
# which unit and AppTest tests used the metadata store (written by `make test`, then read)
STORE_USERS := .pytest-store-users

.PHONY: run worker team team-stop backup restore test lint typecheck unit bench eval clean

# Packages are installed with uv, from PyPI like pip, in ~10 s where pip took ~80 s (both
# resolve the same pinned versions).
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(BIN)/python:
	@echo "Creating the virtual environment in $(VENV)…"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.9

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	@echo "Installing packages (the first run takes under a minute)…"
	$(UV) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing packages and test tools (the first run takes under a minute)…"
	$(UV) -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime  ## start the app and its API on 127.0.0.1 (embedded DuckDB under data/runtime)
	@echo "Starting Research Desk on http://127.0.0.1:$(PORT) (API docs at /api/docs; stop it with Ctrl+C)"
	$(BIN)/uvicorn asgi:app --host 127.0.0.1 --port $(PORT)

worker: $(VENV)/.runtime  ## a Celery worker for batches and enrichments (needs RESEARCH_DESK_REDIS_URL, and the app servers' settings)
	$(BIN)/celery --app services.prompts.worker worker --loglevel INFO --concurrency 2

team: $(VENV)/.runtime  ## PostgreSQL, Redis, two app servers, a worker and nginx, all on 127.0.0.1
	$(BIN)/python -m deploy.team start --folder $(TEAM_DIR) --port $(TEAM_PORT) \
	  --app-ports $(TEAM_APP_PORTS) --postgres-port $(TEAM_POSTGRES_PORT) \
	  --redis-port $(TEAM_REDIS_PORT)

team-stop: $(VENV)/.runtime  ## end everything `make team` started
	$(BIN)/python -m deploy.team stop --folder $(TEAM_DIR)

backup: $(VENV)/.runtime  ## one archive of the metadata and dataset files in $(BACKUP_DIR)
	$(BIN)/python -m services.cli backup --to "$(BACKUP_DIR)"

restore: $(VENV)/.runtime  ## make restore ARCHIVE=backups/research-desk-….tar.gz (an empty installation)
	@test -n "$(ARCHIVE)" || { echo "Say which archive to restore: make restore ARCHIVE=$(BACKUP_DIR)/research-desk-….tar.gz"; exit 2; }
	$(BIN)/python -m services.cli restore "$(ARCHIVE)"

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy app.py asgi.py services components pages deploy

test: lint typecheck  ## lint, types, unit, AppTest and browser tests
	# unit and AppTest on both cores; then the browser journeys two at a time (each starts its
	# own server; the sign-in cookie reader that raced them once is gone: components/auth_gate)
	# (worksteal: a worker that runs out of tests takes queued ones from the other; the 15
	# slowest tests are listed, so a test that slows the suite down shows in the CI log)
	rm -rf $(STORE_USERS)
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n 2 --dist worksteal tests/unit tests/app --record-store-users $(STORE_USERS)
	# The same tests on PostgreSQL: exactly those that opened the metadata store in the pass
	# above (recorded per test by tests/conftest.py, also when a child process opened it), each
	# on its own database cloned from a migrated template; a test that never touches the store
	# would prove nothing twice. Tests about the DuckDB file itself are marked `duckdb_only`.
	# It runs beside the browser journeys, which mostly wait for a browser or a server to
	# start (~15 CPU seconds in a 30 s journey): the two overlap instead of adding up. On one
	# process it left a core idle while the journeys waited and took longest (~10 min); on two
	# workers, each with its own throwaway cluster (tests/postgres_server.py), it keeps both
	# cores busy. `nice` gives the journeys the CPU first when both want it (their browser
	# waits have time limits; this pass only has to finish), so it fills their waits.
	# Its output follows the journeys'; either failing fails the run.
	@rm -f $(STORE_USERS)/postgres.log; \
	( RESEARCH_DESK_TEST_STORE=postgres nice -n 5 $(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n 2 --dist worksteal tests/unit tests/app --only-store-users $(STORE_USERS) > $(STORE_USERS)/postgres.log 2>&1 ) & postgres=$$!; \
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n 2 --dist worksteal tests/e2e; journeys=$$?; \
	wait $$postgres; pass=$$?; \
	echo "--- unit and AppTest tests on PostgreSQL ---"; cat $(STORE_USERS)/postgres.log; \
	test $$journeys -eq 0 -a $$pass -eq 0

unit: $(VENV)/.dev
	$(BIN)/python -m pytest -q -n 2 --dist worksteal tests/unit

bench: $(VENV)/.dev  ## benchmarks; writes bench/results.json and bench/results.md
	$(BIN)/python -m bench.run

eval: $(VENV)/.runtime  ## how well Ask answers evals/questions.yaml (EVAL_ARGS="--model M --limit N --questions FILE")
	# With ANTHROPIC_API_KEY this calls the real Claude API (it costs money; --budget caps it);
	# without one it is a rehearsal against the project's fake Claude, which shows it works.
	$(BIN)/python -m services.cli eval $(EVAL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(STORE_USERS)
