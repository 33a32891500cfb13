#!/usr/bin/env bash
# The whole test suite: static checks; pytest on the emulator, the modules,
# the Lambda and the deployment model; then the playbook tests and a smoke run
# of the deploy benchmark (pytest) and every Molecule scenario
# side by side, each on an emulator of its own, since both spend much of their
# time waiting. Molecule's output goes to build/molecule.log and is printed
# when it ends. Any failure fails the whole.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/lint.sh

echo "== pytest: emulator, modules, Lambda, deploy model"
python -m pytest tests/emulator tests/modules tests/lambda tests/benchmarks/test_deploy_model.py

echo "== pytest: playbooks, deploy benchmark (smoke); molecule test --all alongside (EMULATOR_PORT ${EMULATOR_PORT:-4566})"
mkdir -p build
# Molecule's state lives in this checkout and starts empty: state left by an
# interrupted run elsewhere would make it skip creating the emulator.
export MOLECULE_EPHEMERAL_DIRECTORY="$PWD/build/molecule-state"
rm -rf "$MOLECULE_EPHEMERAL_DIRECTORY"
molecule test --all >build/molecule.log 2>&1 &
molecule_pid=$!
trap 'kill "$molecule_pid" 2>/dev/null || true' EXIT
pytest_status=0
python -m pytest tests/playbooks tests/benchmarks/test_deploy_speed.py || pytest_status=$?
molecule_status=0
wait "$molecule_pid" || molecule_status=$?
trap - EXIT

echo "== molecule (exit status $molecule_status; full log: build/molecule.log)"
if [ "$molecule_status" -ne 0 ]; then
  cat build/molecule.log
else
  sed -n '/SCENARIO RECAP/,$p' build/molecule.log
fi
[ "$pytest_status" -eq 0 ] && [ "$molecule_status" -eq 0 ]
