#!/usr/bin/env bash
# Installs Debian's redis-server unless one is on PATH (the session tests and the soak need it).
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server (Debian package; first run only)"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q >/dev/null
  $sudo_ apt-get install -y -q redis-server >/dev/null
fi
