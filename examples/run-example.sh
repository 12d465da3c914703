#!/usr/bin/env bash
# The README's first command: a KOTO-style Monte-Carlo workflow end to end on this machine.
#   1. build it with the TypeScript builder API (examples/koto/build-workflow.mjs --site local),
#   2. plan it (pegasus-ts plan: horizontal clustering, stage-out and registration to `local`),
#   3. run it in the foreground (pegasus-ts run --foreground: clustered jobs through the cluster
#      runner over ZeroMQ, data jobs through pegasus-ts transfer, every job under kickstart),
#   4. show what it left. Repeatable: each run starts from a fresh examples/koto/run/.
#   bash examples/run-example.sh [SIMULATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${1:-30}
out="$root/examples/koto/run"
pts=(node "$root/packages/cli/bin/pegasus-ts.js")

rm -rf "$out"
echo "[example] 1. building the KOTO workflow ($jobs simulations + 1 merge) in $out" >&2
node examples/koto/build-workflow.mjs --site local --jobs "$jobs" --out "$out" >&2
cd "$out"
echo "[example] 2. planning: pegasus-ts plan --sites local --cluster horizontal --output-sites local" >&2
submit=$("${pts[@]}" plan --dir "$out/submit" --sites local --cluster horizontal --output-sites local -q workflow.yml)
echo "[example]    submit dir: $submit" >&2
echo "[example] 3. running: pegasus-ts run --foreground" >&2
"${pts[@]}" run --foreground "$submit"

echo
echo "What the run left:"
echo "  $out/outputs/koto-merged.root (staged out, registered in $submit/output-replicas.yml):"
sed 's/^/    /' "$out/outputs/koto-merged.root" | tail -4
echo "  $submit/jobstate.log: $(grep -c POST_SCRIPT_SUCCESS "$submit/jobstate.log") jobs succeeded; the last lines:"
tail -3 "$submit/jobstate.log" | sed 's/^/    /'
echo "  $submit/invocations/: $(ls "$submit/invocations" | wc -l) kickstart records (one per job attempt)"
echo "  $submit/clusters/*.dag.invocations.yml: the records of the clustered tasks"
echo
echo "pegasus-ts status / statistics (from the provenance database $submit/workflow.db):"
"${pts[@]}" status "$submit" | sed 's/^/  /'
"${pts[@]}" statistics "$submit" | sed -n '/^---/,$p' | sed 's/^/  /'
echo
echo "Result: $(tail -1 "$out/outputs/koto-merged.root")"
