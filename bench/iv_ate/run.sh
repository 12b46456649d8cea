#!/usr/bin/env bash
# MDML with tessera's lasso learners against DoubleML's IIVM with cv.glmnet learners; see bench.R.
#   [TESSERA_BENCH_FULL=1] [TESSERA_BENCH_DML_MAX_N=1e4] bash bench/iv_ate/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$root/bench/results"
cd "$root"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 Rscript "$here/bench.R" "$root/bench/results/iv_ate.csv" "$@"
