#!/usr/bin/env bash
# Rel-MF benchmark: tessera's full-batch and mini-batch steps against rsparse::WRMF (ALS) on
# MovieLens 100K and a synthetic sparse matrix, the full-batch scaling curve and semi-synthetic
# ranking quality; writes bench/results/relmf.csv (see bench.R's header and README.md).
#   RELMF_SYN_USERS / RELMF_SYN_ITEMS / RELMF_SYN_CLICKS size the synthetic matrix (the issue's
#   100000 x 20000 with 1e7 clicks by default); RELMF_REPS (3) interleaved repetitions;
#   RELMF_RANK (32) the common rank of the speed runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results
export OPENBLAS_NUM_THREADS=1
Rscript bench/relmf/bench.R
