#!/usr/bin/env bash
# All tests: unit tests and the integration tests that start a real lab (needs root).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
exec python3 -m pytest -v "$@"
