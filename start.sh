#!/usr/bin/env bash
# Install radar into .venv and start it on the embedded SQLite database:
# the API (and web page) on http://127.0.0.1:8080 and the collector daemon.
# A configuration file is used when given as $RADAR_CONFIG or found at
# etc/radar.conf. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
config=${RADAR_CONFIG:-etc/radar.conf}
args=()
[ -f "$config" ] && args=(--config-file "$config")
.venv/bin/radar-db-manage "${args[@]}" upgrade
.venv/bin/radar-daemon "${args[@]}" run &
daemon=$!
.venv/bin/radar-api "${args[@]}" &
api=$!
trap 'kill $api $daemon 2>/dev/null; wait' INT TERM EXIT
echo "radar: API and web page on http://127.0.0.1:8080/ (Ctrl-C stops)"
# When either process ends, stop the other.
wait -n
