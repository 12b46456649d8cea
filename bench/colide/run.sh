#!/usr/bin/env bash
# tessera's CoLiDE against the authors' reference implementation (SAMiatto/colide), same data,
# lambda and schedule. The reference is public source we never commit: point COLIDE_REF at a
# checkout of it. Without COLIDE_REF only tessera is timed and the CSV says the peer was skipped.
#   COLIDE_REF=/path/to/colide bash bench/colide/run.sh [d ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$root/bench/results"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 Rscript "$here/bench.R" "$root/bench/results/colide.csv" "$@"
