#!/usr/bin/env bash
# Start the local emulator, deploy site.yml to it, print what was deployed,
# stop the emulator. Extra arguments go to ansible-playbook.
set -euo pipefail
cd "$(dirname "$0")/.."

export EMULATOR_PORT="${EMULATOR_PORT:-4566}"
# Seconds of emulation per minute of real AWS provisioning: waits really wait.
export EMULATOR_DELAY_SCALE="${EMULATOR_DELAY_SCALE:-0.05}"

python -m emulator start --port "$EMULATOR_PORT" --delay-scale "$EMULATOR_DELAY_SCALE"
trap 'python -m emulator stop --port "$EMULATOR_PORT"' EXIT

ansible-playbook site.yml "$@"
