#!/usr/bin/env bash
# Fails when two files of the R package define the same top-level function: in one
# namespace the later file silently replaces the earlier definition.
set -euo pipefail
cd "$(dirname "$0")/../rpkg/R"
dups=$(grep -HoE "^[A-Za-z_.][A-Za-z0-9_.]* *<- *function" ./*.R | sed -E 's/ *<- *function//' |
       awk -F: '{print $2" "$1}' | sort | awk '{n[$1]++; f[$1]=f[$1]" "$2} END {for (k in n) if (n[k]>1) print k":"f[k]}')
if [ -n "$dups" ]; then
  echo "R functions defined in more than one file (the later definition wins silently):"
  echo "$dups"
  exit 1
fi
echo "check-r-names: no duplicated R function definitions"
