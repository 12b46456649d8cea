#!/usr/bin/env bash
# bench/ldp: client and server throughput of the LDP protocol; writes bench/results/ldp.csv.
#   bench/ldp/run.sh [max_users_at_d10 (default 1e7)] [seconds per row (default 60)]
# Builds the core in build/ if needed, compiles the C++ driver against it, runs it single-threaded.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -f build/libtessera.a ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j1 --target tessera >/dev/null; }
mkdir -p bench/results build/bench
g++ -O2 -std=c++17 -Icore/include bench/ldp/bench_ldp.cpp build/libtessera.a -larmadillo -o build/bench/bench_ldp
OPENBLAS_NUM_THREADS=1 build/bench/bench_ldp "${1:-1e7}" "${2:-60}" > bench/results/ldp.csv
echo "bench/ldp: wrote bench/results/ldp.csv"
