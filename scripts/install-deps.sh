#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to run the tasks and tests (idempotent, quiet when done):
# Debian packages with apt, and the Python dependencies into the project's virtual environment .venv
# (Debian's python3 refuses system-wide pip installs, PEP 668). Every task and test runs from .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv docker.io openssh-server iproute2 debootstrap docker-registry tinyproxy
              socat curl psmisc haproxy chromium chromium-driver)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own interpreter, whatever python3 comes first on PATH (pyenv, a user's venv, ...)
PY=/usr/bin/python3
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import sys; sys.exit(sys.prefix == sys.base_prefix)"; then
  echo "setup: python3 -m venv .venv"
  rm -rf .venv
  "$PY" -m venv .venv
fi
# reinstall when pyproject.toml changed since the last install (pinned versions)
stamp=.venv/.pxc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: .venv: pip install -e .[test]"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  touch "$stamp"
fi
