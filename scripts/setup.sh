#!/usr/bin/env bash
# Idempotent set-up on a machine that has Node 20 + npm: pnpm, dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '[setup] %s\n' "$*" >&2; }

# Headers for node-gyp builds come from the system Node (no download).
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

. scripts/pnpm-cmd.sh
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  step "installing pnpm $PNPM_VERSION"
  if ! npm i -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 \
    || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    step "cannot install pnpm globally (or another pnpm comes first on PATH); using npx pnpm@$PNPM_VERSION"
    PNPM=(npx --loglevel=error -y "pnpm@$PNPM_VERSION")
  else
    PNPM=(pnpm)
  fi
  export PNPM_CMD="${PNPM[*]}"
else
  step "pnpm $PNPM_VERSION present"
fi

step "installing dependencies"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [ -f pnpm-lock.yaml ]; then
  install_args=(install --frozen-lockfile)
else
  install_args=(install)
fi
if ! CI="${CI:-true}" "${PNPM[@]}" "${install_args[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  step "dependency install failed"
  exit 1
fi

step "building"
bash scripts/build.sh
step "done"
