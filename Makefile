# Tasks for developers. `make` runs what should pass before every commit: lint, format check,
# types and the fast tests (a couple of minutes). CI runs the whole suite (`make test`, which is
# what .ci/run and the README's test command run after installing).
PYTHON ?= python3

.PHONY: check lint types fast test format bench lock

check: lint types fast

lint:
	ruff check server tests bench
	ruff format --check server tests bench

types:
	mypy

fast:
	$(PYTHON) -m pytest -m "not slow"

test:
	$(PYTHON) -m pytest

format:
	ruff format server tests bench
	ruff check --fix server tests bench

bench:
	$(PYTHON) -m bench.validate
	$(PYTHON) -m bench.load
	$(PYTHON) -m bench.pages
	$(PYTHON) -m bench.sparql --scales 1,10
	$(PYTHON) -m bench.soak

lock:
	uv pip compile pyproject.toml --extra test --extra bench --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements/dev.lock
