#!/usr/bin/env bash
# The main job on this machine's lab: install what is missing, bring the 3-node lab up, build every image,
# deploy the HA stack, seed the shop through its admin UI, and print where to look.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
.venv/bin/python -m invoke lab.up build deploy quickstart status
state="${PXC_STATE_DIR:-$HOME/.local/state/pretix-cluster}/lab/shop"
cat <<EOT

Where to look:
  shop:      http://127.0.0.1:8080/demo/conf/
  admin:     http://127.0.0.1:8080/control/   (admin@localhost, password in $state/admin_password)
  API token: $state/api_token
  tasks:     source .venv/bin/activate, then: inv --list, inv status, inv logs web, inv buy, inv bench
EOT
