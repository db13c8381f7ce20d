# The two commands: `make run` and `make test`. Everything else is what they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint chaos bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## Set up and run the web app, a Celery worker and beat together on http://127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	PORT=$(PORT) bin/run-dev

## Set up and run every test (unit, views, access table, Celery with a real worker, browser)
test: $(VENV)/.dev
	bin/run-tests

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Send 1,000 text reminders while killing a worker and Redis, with two beats; each must go out exactly once
chaos: $(VENV)/.runtime
	$(BIN)/python bin/chaos

## Generate a 10,000-patient agency in PostgreSQL and measure its pages, the sweep and a run under load (BENCH_SCALE)
bench: $(VENV)/.dev
	$(BIN)/python bin/bench

clean:
	rm -rf $(VENV) staticfiles db.sqlite3* test_db.sqlite3* .run
