# The two commands of the README. Each installs what it needs, idempotently.
.PHONY: up test lint

up:
	@scripts/bootstrap main
	.venv/bin/courtside up $(ARGS)

test:
	@scripts/bootstrap test
	.venv/bin/python -m pytest $(ARGS)

lint:
	.venv/bin/ruff check contracts courtside ingest inference fanout bench tests
	.venv/bin/mypy
