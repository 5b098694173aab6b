#!/usr/bin/env bash
# All tests: unit tests and the integration tests that start real labs (needs root), from the project's .venv.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
exec .venv/bin/python -m pytest -v --durations=30 "$@"
