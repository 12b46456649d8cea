#!/usr/bin/env bash
# tessera's PRESTO against ordinalNet (CRAN) and, when PRESTO_REF points at a checkout of the
# authors' public code (gregfaletto/presto; never committed), against their modified-ordinalNet
# pipeline: the 20-lambda path plus 5-fold CV at n = 2500, p = 10, K = 4, objectives compared
# at every lambda (bench/results/presto.csv); then tessera's cost curve over n and p
# (bench/results/presto_cost.csv). See bench/presto/README.md.
#   PRESTO_REF=/path/to/presto [PRESTO_REF_COMMIT=9ff94a4] bash bench/presto/run.sh [--quick] [--peers-only|--cost-only]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$root/bench/results"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 Rscript "$here/bench.R" "$root/bench/results/presto.csv" "$root/bench/results/presto_cost.csv" "$@"
