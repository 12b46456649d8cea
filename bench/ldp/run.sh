#!/usr/bin/env bash
# bench/ldp: client and server throughput of the LDP protocol; writes bench/results/ldp.csv.
#   bench/ldp/run.sh [max_users (default 1e7)]
# Every measurement runs in a fresh process, so its peak resident memory (VmHWM) is its own:
# * client: reports/second of one user's randomisation at d = 10, 50, 100, five interleaved
#   repetitions of the four non-interactive variants (Laplace / Gaussian x textbook double /
#   discrete grid) and the interactive Duchi client; medians; ratio to textbook Laplace.
# * server_aggregate: the server adds n reports in chunks (n = 1e4 ... max_users, every d).
# * stream_*: the whole protocol streamed in chunks (users randomise, the server aggregates)
#   up to max_users at d = 10, and up to max_users/100 (d = 50), max_users/1000 (d = 100),
#   where one user's randomisation of d(d+3)/2 numbers makes 1e7 users take hours.
# The driver is compiled from the privacy and common sources only (no R, no CMake build).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
max="${1:-1e7}"
out=bench/results/ldp.csv
mkdir -p bench/results build/bench
g++ -O2 -std=c++17 -Icore/include bench/ldp/bench_ldp.cpp core/src/privacy/*.cpp core/src/common/*.cpp \
  -larmadillo -o build/bench/bench_ldp
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export BENCH_COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core bench || echo '+dirty')"
b=build/bench/bench_ldp
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
{
  $b header
  for d in 10 50 100; do
    case $d in 10) count=20000 ;; 50) count=2000 ;; 100) count=500 ;; esac
    $b client $d 5 $count
  done
  for d in 10 50 100; do
    for n in 1e4 1e5 1e6 1e7; do le "$n" "$max" && $b server $d $n; done
  done
  for d in 10 50 100; do
    case $d in 10) cap=$max ;; 50) cap=$(awk -v m="$max" 'BEGIN { print m / 100 }') ;;
               100) cap=$(awk -v m="$max" 'BEGIN { print m / 1000 }') ;; esac
    for n in 1e3 1e4 1e5 1e6 1e7; do le "$n" "$cap" && $b stream $d $n; done
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench/ldp: wrote $out (commit $BENCH_COMMIT, load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
