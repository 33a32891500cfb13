#!/usr/bin/env bash
# The whole test suite: static checks; pytest on the emulator beside the
# modules, the Lambda, the deployment model and the roles' documentation; then
# the playbook tests beside every Molecule scenario, the organization and
# preflight tests and a smoke run of the deploy benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/lint.sh

# The emulator's tests beside those of the modules, the Lambda, the deploy
# model and the roles' documentation (one process each, on emulators of their
# own: both cores busy).
echo "== pytest: modules, Lambda, deploy model, role docs | alongside: the emulator"
mkdir -p build
python -m pytest tests/emulator >build/pytest-emulator.log 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true' EXIT
units_status=0
python -m pytest tests/modules tests/lambda tests/benchmarks/test_deploy_model.py tests/test_role_docs.py || units_status=$?
emulator_status=0
wait "$emulator_pid" || emulator_status=$?
trap - EXIT
echo "== pytest: emulator (exit status $emulator_status)"
cat build/pytest-emulator.log
if [ "$units_status" -ne 0 ] || [ "$emulator_status" -ne 0 ]; then
  exit 1
fi

# Two lanes side by side, each on emulators of its own, since both spend much of their time waiting: the
# playbook tests in this shell; every Molecule scenario, then the organization and preflight tests and the deploy
# benchmark's smoke run, in the background (output in build/, printed when they end). Any failure fails the whole.
echo "== pytest: playbooks | alongside: molecule test --all, then the organization and preflight tests, the deploy benchmark"
# Molecule's state lives in this checkout and starts empty: state left by an
# interrupted run elsewhere would make it skip creating the emulator.
export MOLECULE_EPHEMERAL_DIRECTORY="$PWD/build/molecule-state"
rm -rf "$MOLECULE_EPHEMERAL_DIRECTORY" build/lane.status
(
  molecule_status=0
  molecule test --all >build/molecule.log 2>&1 || molecule_status=$?
  lane_status=0
  python -m pytest tests/playbooks/test_organization.py tests/playbooks/test_preflight.py \
    tests/benchmarks/test_deploy_speed.py \
    >build/pytest-lane.log 2>&1 || lane_status=$?
  echo "$molecule_status $lane_status" >build/lane.status
) &
lane_pid=$!
trap 'kill "$lane_pid" 2>/dev/null || true' EXIT
pytest_status=0
python -m pytest tests/playbooks --ignore=tests/playbooks/test_organization.py \
  --ignore=tests/playbooks/test_preflight.py || pytest_status=$?
wait "$lane_pid" || true
trap - EXIT
read -r molecule_status lane_status <build/lane.status || { molecule_status=1; lane_status=1; }

echo "== molecule (exit status $molecule_status; full log: build/molecule.log)"
if [ "$molecule_status" -ne 0 ]; then
  cat build/molecule.log
else
  sed -n '/SCENARIO RECAP/,$p' build/molecule.log
fi
echo "== pytest: organization and preflight tests, deploy benchmark (exit status $lane_status)"
cat build/pytest-lane.log
[ "$pytest_status" -eq 0 ] && [ "$molecule_status" -eq 0 ] && [ "$lane_status" -eq 0 ]
