#!/usr/bin/env bash
# Set up (or refresh) .venv with lanterna and a Chromium, then run the demo or the tests.
#   ./dev.sh demo          watch an agent solve a task on the bundled shop, offline
#   ./dev.sh test [ARGS]   run the test suite (ARGS go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1;34m[lanterna]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[lanterna]\033[0m %s\n' "$*" >&2; exit 1; }

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "Python 3.11 or newer is needed as '$PYTHON' (set PYTHON=/path/to/python3.11)."

setup_venv() {
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
  fi
  local stamp=.venv/.lanterna-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing lanterna and its dev extras into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch "$stamp"
  fi
}

find_chromium() {
  if [ -n "${LANTERNA_CHROMIUM:-}" ]; then
    [ -x "$LANTERNA_CHROMIUM" ] || die "LANTERNA_CHROMIUM=$LANTERNA_CHROMIUM is not an executable file."
    say "using Chromium from LANTERNA_CHROMIUM: $LANTERNA_CHROMIUM"; return
  fi
  for candidate in /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)" \
                   "$(command -v chromium-browser 2>/dev/null || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      say "using system Chromium: $candidate"; return
    fi
  done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      && [ -x /usr/bin/chromium ] && { say "using /usr/bin/chromium"; return; }
    say "apt-get could not install chromium; trying Playwright's download"
  fi
  if .venv/bin/python -m playwright install chromium >/dev/null 2>&1; then
    say "using Playwright's Chromium"; return
  fi
  die "No Chromium found. Install one (Debian/Ubuntu: 'sudo apt-get install chromium'), or run
  '.venv/bin/python -m playwright install chromium', or set LANTERNA_CHROMIUM=/path/to/chrome."
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    setup_venv; find_chromium
    exec .venv/bin/lanterna demo "$@" ;;
  test)
    setup_venv; find_chromium
    exec .venv/bin/python -m pytest "$@" ;;
  *)
    die "usage: ./dev.sh demo | ./dev.sh test [pytest args]" ;;
esac
