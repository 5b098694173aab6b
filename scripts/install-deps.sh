#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to run the tasks and tests (idempotent, quiet when done).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(docker.io openssh-server iproute2 debootstrap docker-registry tinyproxy socat curl psmisc
              chromium chromium-driver)

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

# Python dependencies, pinned in pyproject.toml
if ! python3 -c "import fabric, invoke, paramiko, docker, selenium, locust, yaml, pytest" 2>/dev/null \
   || ! pip show -q pretix-cluster >/dev/null 2>&1; then
  echo "setup: pip install -e .[test]"
  python3 -m pip install -q --disable-pip-version-check -e ".[test]"
fi
