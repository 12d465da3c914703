#!/usr/bin/env bash
# Run examples/diamond (a PMC-format DAG) straight through the cluster runner (`pegasus-ts mpi-cluster`) in local mode:
# one master and 2 workers on this machine. Repeatable: old outputs and rescue log go first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pnpm-cmd.sh # PNPM: pnpm, or npx pnpm when set-up could not install it
cd examples/diamond
here="$(pwd)"

rm -rf outputs diamond.dag.rescue diamond.dag.resource diamond.dag.invocations.yml
mkdir -p outputs

echo "[example] running diamond.dag with 2 workers" >&2
"${PNPM[@]}" exec pegasus-ts mpi-cluster --workers 2 \
  -o outputs/tasks.out -e outputs/tasks.err \
  diamond.dag

echo
echo "Outputs in $here:"
for f in outputs/f.b1 outputs/f.b2 outputs/f.c1 outputs/f.c2 outputs/f.d; do
  printf '  %-14s %s\n' "$f" "$(tr '\n' ' ' <"$f")"
done
echo "  outputs/tasks.out (merged task stdout):"
sed 's/^/    /' outputs/tasks.out
echo "  diamond.dag.rescue (rescue log):"
grep -v '^$' diamond.dag.rescue | sed 's/^/    /'
echo "  diamond.dag.invocations.yml: kickstart invocation records of the tasks"
echo "  diamond.dag.resource: resource log"
echo
echo "Result: $(cat outputs/f.d)"
