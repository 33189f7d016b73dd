#!/usr/bin/env bash
# Install what the browser and typed-client tests need, idempotently (a no-op when all is in place):
#   - Debian's chromium (apt-get, as root), driven by playwright-core: no browser download;
#   - the npm packages of tests/frontend (vite, playwright-core, openapi-typescript, typescript),
#     from its package-lock.json;
#   - openapi-python-client in its own virtualenv, tests/frontend/.venv-tools (it pins httpx < 0.29
#     and needs Python >= 3.11, so it stays out of the test environment).
# The tests call this script themselves (tests/frontend/conftest.py); run it by hand to prepare ahead.
# PYTHON names the interpreter for the tools' virtualenv (default: python3).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FRONTEND="$ROOT/tests/frontend"
PYTHON="${PYTHON:-python3}"
OPENAPI_PYTHON_CLIENT="openapi-python-client==0.29.1"

say() { echo "setup_frontend_tests: $*" >&2; }

# One setup at a time (parallel test sessions share the folder).
exec 9>"$FRONTEND/.setup.lock"
flock 9

# 1. Chromium from Debian.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ]; then
        say "chromium is missing; install Debian's package: sudo apt-get install -y chromium"
        exit 1
    fi
    say "installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# 2. npm packages, reinstalled only when package-lock.json changed.
stamp="$FRONTEND/node_modules/.rill-emu-lock"
if ! cmp -s "$FRONTEND/package-lock.json" "$stamp"; then
    say "installing npm packages (npm ci)"
    (cd "$FRONTEND" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$FRONTEND/package-lock.json" "$stamp"
fi

# 3. openapi-python-client in its own virtualenv.
tools="$FRONTEND/.venv-tools"
if [ ! -x "$tools/bin/openapi-python-client" ] || ! grep -qx "$OPENAPI_PYTHON_CLIENT" "$tools/.rill-emu-tools" 2>/dev/null; then
    say "installing $OPENAPI_PYTHON_CLIENT"
    rm -rf "$tools"
    "$PYTHON" -m venv "$tools"
    if ! log="$("$tools/bin/pip" install -q --disable-pip-version-check "$OPENAPI_PYTHON_CLIENT" python-dateutil 2>&1)"; then
        echo "$log" >&2
        exit 1
    fi
    echo "$OPENAPI_PYTHON_CLIENT" > "$tools/.rill-emu-tools"
fi
