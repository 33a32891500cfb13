#!/usr/bin/env bash
# The whole test suite: static checks, pytest (emulator, modules, Lambda,
# playbooks, failure drills), then every Molecule scenario. Extra arguments
# go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/lint.sh
echo "== pytest"
python -m pytest "$@"
echo "== molecule"
# The scenarios' emulator listens on EMULATOR_PORT (4566 unless set).
molecule test --all
