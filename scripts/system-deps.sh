#!/usr/bin/env bash
# Ensure the Debian packages the service (and, with --test, the test suite; with --bench, `make bench`) needs.
# Installs them when running as root; otherwise prints the exact command and fails.
set -euo pipefail
packages=(fonts-noto-cjk libharfbuzz-subset0 poppler-utils)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium)
elif [ "${1:-}" = "--bench" ]; then
  packages+=(wrk)  # the loopback load generator of catalog_vs_bare (bench/http.py)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
