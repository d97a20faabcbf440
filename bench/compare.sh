#!/usr/bin/env bash
# Compares two runs figure by figure: every figure present in both (same benchmark, figure name and parameters) with
# its old value, its new value and new/old; then how many were in one only, and the settings that differ.
#   bench/compare.sh OLD.json NEW.json
# Either file a performance report (target/performance-report.json, from bench/all.sh) or one benchmark's document
# (target/bench/NAME.json, from bench/stop-latency.sh, bench/scale.sh, ...). Runs on the test classpath (Jackson);
# compiles the test sources first if they are not. Prints; judges nothing (a ratio above 1 is slower for a time, more
# for a rate).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: bench/compare.sh OLD.json NEW.json" >&2
  exit 2
fi
old=$(realpath "$1")
new=$(realpath "$2")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f target/test-classes/io/marketintel/safety/bench/Compare.class ] || ./mvnw -q -B test-compile
./mvnw -q -B exec:java@bench-compare -Dexec.args="'$old' '$new'"
