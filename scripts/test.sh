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
step "tests (vitest run)"
"${PNPM[@]}" exec vitest run
