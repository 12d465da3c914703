# Sourced by the other scripts: sets PNPM (an array) to the pnpm command to use.
# The pinned pnpm when it is on PATH, else `npx -y pnpm@VERSION` (no global install needed).
PNPM_VERSION=12.21.0
if [ -n "${PNPM_CMD:-}" ]; then
  read -r -a PNPM <<<"$PNPM_CMD"
elif command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
  PNPM=(pnpm)
else
  PNPM=(npx --loglevel=error -y "pnpm@$PNPM_VERSION")
fi
export PNPM_CMD="${PNPM[*]}"
