#!/usr/bin/env bash
# `npm run bench`: makes sure wrk (the Debian package) is installed, then runs the node driver.
# Settings are environment variables; see the header of bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bench: wrk is missing; install the Debian package: apt-get install -y wrk" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "bench: installing wrk (apt-get install -y wrk)" >&2
  $sudo apt-get install -y wrk >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y wrk >&2; }
fi

exec node --import tsx bench/run.ts "$@"
