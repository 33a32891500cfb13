#!/usr/bin/env bash
# Every static check: ruff (Python), yamllint, ansible-lint (production profile),
# and the roles' README variables tables against their argument specs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff"
ruff check .
ruff format --check .
echo "== yamllint"
yamllint --strict .
echo "== ansible-lint"
ansible-lint --strict
echo "== role docs"
python scripts/role_docs.py --check
