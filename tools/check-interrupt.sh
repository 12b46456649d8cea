#!/usr/bin/env bash
# Checks that Ctrl-C (SIGINT) during a long fit stops it cleanly and leaves the R session
# usable: an R process starts a fit that would run for minutes (tol = 0 turns off the early
# stop, so an idle machine cannot finish it first), we interrupt it once it is running, and
# the same process must then catch the interrupt and fit again.
# Usage: R_LIBS=... tools/check-interrupt.sh
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/run.R" <<RSCRIPT
library(tessera)
x <- simulate_sem(n = 1000, d = 40, seed = 1)\$x
file.create("$work/started")
r <- tryCatch(colide(x, control = dag_control(warm_iter = 1e7, max_iter = 1e7, tol = 0), verbose = FALSE),
              interrupt = function(e) "interrupted")
cat("first fit:", if (is.character(r)) r else "finished", "\n")
fit <- colide(x[, 1:4], control = dag_control(warm_iter = 500, max_iter = 1000), verbose = FALSE)
cat("second fit:", class(fit)[1], "\n")
RSCRIPT
OPENBLAS_NUM_THREADS=1 R --no-save --quiet -f "$work/run.R" > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -f "$work/started" ] && break; sleep 0.2; done
sleep 2
kill -INT "$pid"
wait "$pid"
status=$?
if [ $status -eq 0 ] && grep -q "first fit: interrupted" "$work/log" && grep -q "second fit: colide" "$work/log"; then
  echo "interrupt-check: 1 passed, 0 failed"
else
  echo "interrupt-check: 0 passed, 1 failed (exit $status)"; cat "$work/log"; exit 1
fi
