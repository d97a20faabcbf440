#!/usr/bin/env bash
# JMH benchmarks of the in-process guards and the transition decision; prints ns/op per benchmark.
#   bench/run.sh            quick: 1 fork, 3x1s warm-up, 5x1s measurement (~1.5 min)
#   JMH_ARGS="-f 3 -wi 5 -i 10" bench/run.sh    longer, tighter error bars
# Results in JMH's text format (target/jmh-results.txt, printed) and its JSON format (target/jmh-results.json); the
# same figures in the JSON document every benchmark writes, target/bench/jmh.json (bench/README.md).
# A benchmark is a script that prints figures, never a test: nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ARGS="${JMH_ARGS:--f 1 -wi 3 -w 1s -i 5 -r 1s} -tu ns -bm avgt -rf text -rff target/jmh-results.txt io.marketintel.safety.bench"
./mvnw -q -B -Pbench -DskipTests test-compile
./mvnw -q -B -Pbench exec:exec@jmh -Djmh.args="$ARGS"
echo
echo "== ns/op per evaluation (lower is better), $(nproc) cores, $(java -version 2>&1 | head -1)"
cat target/jmh-results.txt
