#!/usr/bin/env bash
# Lint + format check, typecheck, then every test. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
. scripts/pnpm-cmd.sh

step() { printf '[test] %s\n' "$*" >&2; }

step "lint + format (biome ci)"
"${PNPM[@]}" exec biome ci .
step "typecheck (tsc -b, then the tests: tsc -p tsconfig.test.json)"
"${PNPM[@]}" exec tsc -b
"${PNPM[@]}" exec tsc -p tsconfig.test.json
# A real single-node Slurm for the Slurm tests (as root, when Slurm is installed): started here
# once, SLURM_CONF exported for the tests, stopped on exit unless it was running already.
if [ "$(id -u)" = 0 ] && command -v sbatch >/dev/null 2>&1 &&
  { command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ]; }; then
  step "starting Slurm (scripts/slurm/start-slurm.sh)"
  if out="$(scripts/slurm/start-slurm.sh)"; then
    printf '%s\n' "$out" >&2
    case "$out" in
    *"already running"*) ;;
    *) trap 'scripts/slurm/stop-slurm.sh >&2 || true' EXIT ;;
    esac
    . "${PEGASUS_TS_SLURM_DIR:-/tmp/pegasus-ts-slurm}/env.sh"
  else
    step "Slurm did not start; the Slurm tests will say why"
  fi
fi
step "tests (vitest run)"
"${PNPM[@]}" exec vitest run
