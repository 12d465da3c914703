#!/usr/bin/env bash
# Build the native addons (each succeeds without a compiler) and every TypeScript package.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
. scripts/pnpm-cmd.sh

step() { printf '[build] %s\n' "$*" >&2; }

if compgen -G 'native/*/package.json' >/dev/null; then
  step "native addons"
  "${PNPM[@]}" --silent --filter './native/*' run build
fi
step "typescript (tsc -b)"
"${PNPM[@]}" exec tsc -b
step "dashboard (packages/service/client: typecheck, esbuild bundle)"
"${PNPM[@]}" exec tsc -p packages/service/client
node packages/service/scripts/build-client.mjs
