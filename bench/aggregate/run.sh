#!/usr/bin/env bash
# Streaming aggregate-response regression up to 1e7 rows against lm() on the expanded design.
#   bash bench/aggregate/run.sh [max_n] [lm_max_n]   (defaults 1e7, 1e6; writes bench/results/aggregate.csv)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$root/bench/results"
cd "$root"
R_LIBS="$root/build/rlib${R_LIBS:+:$R_LIBS}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
  Rscript "$here/bench.R" "$root/bench/results/aggregate.csv" "$@"
