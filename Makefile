# The two commands of the README, and the gates CI runs before the tests. Each installs what it needs, idempotently.
.PHONY: up test gates lint

# Every Python package of the repository, for ruff (mypy's list is [tool.mypy] in pyproject.toml).
PY_PACKAGES := contracts/courtside_contracts courtside ingest inference fanout analytics sdk bench tests

up:
	@scripts/bootstrap main
	.venv/bin/courtside up $(ARGS)

test:
	@scripts/bootstrap test
	.venv/bin/python -m pytest $(ARGS)

# Static checks, failing at the first: lint, strict types, the JS contract generated from
# courtside_contracts, and the type check of web/ JavaScript against the SDK's .d.ts.
gates:
	@scripts/bootstrap test
	.venv/bin/ruff check $(PY_PACKAGES)
	.venv/bin/mypy
	.venv/bin/python sdk/generate_js_contract.py --check
	node_modules/.bin/tsc -p tsconfig.json

lint: gates
