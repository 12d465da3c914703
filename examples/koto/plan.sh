#!/usr/bin/env bash
# Builds the KOTO Monte-Carlo workflow with the builder API and plans it into clustered Slurm jobs:
# horizontal clustering (clusters.size 10 from the transformation catalog) -> clusters/*.dag (PMC
# format, for `pegasus-ts mpi-cluster`) and clusters/*.sbatch (srun under Slurm).
#   bash examples/koto/plan.sh [JOBS] [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jobs=${1:-100}
out=${2:-$(mktemp -d /tmp/koto-plan-XXXX)}
node "$here/build-workflow.mjs" --jobs "$jobs" --out "$out"
cd "$out"
node "$root/packages/cli/bin/pegasus-ts.js" plan --dir "$out/submit" --cluster horizontal --output-sites local workflow.yml
