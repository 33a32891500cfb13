#!/usr/bin/env bash
# The whole test suite: static checks, then pytest (emulator, modules, Lambda,
# playbooks). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/lint.sh
echo "== pytest"
python -m pytest "$@"
