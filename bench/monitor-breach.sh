#!/usr/bin/env bash
# Risk monitor breach to no pod (issue 23, item 2): a real Prometheus (Debian's prometheus package) scrapes a loopback
# exporter; the packaged operator evaluates one DryRun policy's monitor on it. RUNS times (after a warm-up) the exporter's
# value is raised above the threshold; from that change: the first scrape serving it, the stop annotation, replicas: 0,
# no pod left (p50/p95/max, ms). Between runs, untimed: the value lowered, the stop re-armed, the pods back.
#   bench/monitor-breach.sh                                   RUNS=10, scrape and evaluation every 1s (a few minutes on 2 cores)
#   RUNS=3 bench/monitor-breach.sh                            a smoke run
#   SCRAPE_INTERVAL=5s EVAL_INTERVAL=15s bench/monitor-breach.sh
#                                                             other intervals (EVAL_INTERVAL is ExecutionSafety/global
#                                                             spec.monitoring.interval, at least 1s; 15s is its default)
#   PODS=2 DEADLINE=60 SEED=N JVM_OPTS=... OPERATOR_JAVA=...  pods of the Deployment; seconds a run waits; the seed of each
#                                                             change's random phase against the two intervals; the operator's JVM
# Starts its own control plane, Prometheus and the packaged operator as a process; all stopped at the end. Table on stdout
# and in target/monitor-breach-bench.txt, every figure in target/bench/monitor-breach.json. A benchmark prints figures;
# nothing here asserts a speed (MonitorStopIT bounds the same figure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v prometheus >/dev/null || test -x /usr/bin/prometheus \
  || { echo "prometheus not found: apt-get install -y prometheus (Debian's package; .ci/run installs it)" >&2; exit 1; }
bash hack/build-tools.sh >/dev/null
./mvnw -q -B package -DskipTests
./mvnw -q -B exec:java@monitor-breach-bench
