#!/usr/bin/env bash
# Run the whole test suite: lint, then every test on SQLite and on MariaDB.
# Installs radar and its test tools into .venv first. Extra arguments go to
# pytest (e.g. ./run_tests.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n "${RADAR_TEST_WORKERS:-2}" "$@"
