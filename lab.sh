#!/usr/bin/env bash
# The main job on this machine's lab: install what is missing, bring the lab up, build the base image, show status.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
python3 -m invoke lab.up build.base --cluster lab lab.status
