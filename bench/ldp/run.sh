#!/usr/bin/env bash
# bench/ldp: client and server throughput of the LDP protocol; writes bench/results/ldp.csv.
#   bench/ldp/run.sh [max_users_at_d10 (default 1e7)] [budget seconds (default 60)]
# Each client row runs for budget/8 s, each streamed protocol for at most 4 * budget s (users
# at d = 50 and 100 are capped at 1/100 and 1/400 of the d = 10 maximum).
# Builds the core in build/cmake (incrementally), compiles the C++ driver against it and
# runs it single-threaded.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
lib=build/cmake/libtessera.a
[ -f build/cmake/CMakeCache.txt ] || cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cmake -j1 --target tessera >/dev/null
mkdir -p bench/results build/bench
g++ -O2 -std=c++17 -Icore/include bench/ldp/bench_ldp.cpp "$lib" -larmadillo -o build/bench/bench_ldp
OPENBLAS_NUM_THREADS=1 build/bench/bench_ldp "${1:-1e7}" "${2:-60}" > bench/results/ldp.csv
echo "bench/ldp: wrote bench/results/ldp.csv"
