#!/usr/bin/env bash
# `make bench`: Sobol' indices by aISCV against the sensitivity package at equal model runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
mkdir -p bench/results
Rscript "$here/bench.R" "$root/bench/results/aiscv.csv" "${MC_BENCH_REPS:-20}" "${MC_BENCH_POINTS:-2000,5000,20000}"
