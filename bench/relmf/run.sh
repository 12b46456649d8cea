#!/usr/bin/env bash
# Rel-MF benchmark: tessera's full-batch and mini-batch steps against rsparse::WRMF (ALS)
# on MovieLens 100K and a synthetic sparse matrix; writes bench/results/recsys.csv.
#   RECSYS_SYN_USERS / RECSYS_SYN_ITEMS / RECSYS_SYN_CLICKS size the synthetic matrix
#   (the issue's 100000 x 20000 with 1e7 clicks by default; lower them on a small machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results
Rscript bench/recsys/bench.R
