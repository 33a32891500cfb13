#!/usr/bin/env bash
# Every static check: ruff (Python), yamllint, ansible-lint (production profile).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff"
ruff check .
ruff format --check .
echo "== yamllint"
yamllint --strict .
echo "== ansible-lint"
ansible-lint --strict
