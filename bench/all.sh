#!/usr/bin/env bash
# Every benchmark, one after the other, into one report (target/performance-report.txt): the JMH guard and
# decision costs, emergency-stop latency against kubectl, the admission policies' cost per write, throughput and
# footprint with 1,000 policies, leader fail-over, then a risk monitor's breach to no pod (real Prometheus).
# Settings of each script pass through (RUNS, BASELINE_RUNS, SIZES, WORKLOADS, UNREADY_RUNS, DEADLINE, LOOP_MAX,
# POLICIES, NAMESPACES, IDLE, CONTROLLER_QPS, JVM_OPTS, JVM_OPTS_APPEND, OPERATOR_JAVA, NMT, POLICY_SIZES, WRITES; RUNS also sets the
# fail-over and monitor-breach runs; SCRAPE_INTERVAL, EVAL_INTERVAL, PODS for monitor-breach); the defaults take roughly 4 to 5 hours on 2 cores (an estimate:
# the stop benchmark with StatefulSets, pod figures and the unready variant has not yet run at its defaults). docs/performance.md shows one report and how
# to read it. Nothing here asserts a speed: it exits non-zero only if a benchmark failed to run.
# Every figure also as JSON: each benchmark writes target/bench/NAME.json, and at the end (also when one failed) the
# documents of this run are merged into target/performance-report.json; bench/compare.sh OLD.json NEW.json compares two.
# BENCHMARKS (default: all six, "run.sh stop-latency.sh admission-cost.sh scale.sh failover.sh monitor-breach.sh") runs fewer, e.g. a
# smoke run: BENCHMARKS=admission-cost.sh POLICY_SIZES="0 5" WRITES=3 bench/all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p target/bench
report=target/performance-report.txt
json=target/performance-report.json
# Only the documents this run writes are merged: those newer than this mark.
started=target/bench/.all-started
touch "$started"
merge() {
  local status=$? files=()
  trap - EXIT
  mapfile -t files < <(find target/bench -maxdepth 1 -name '*.json' -newer "$started" | sort)
  # prints "figures: target/performance-report.json (N benchmark documents)"
  if ! ./mvnw -q -B exec:java@performance-report -Dexec.args="$json ${files[*]}"; then
    echo "figures not merged into $json" >&2
    [ "$status" -ne 0 ] || status=1
  fi
  exit "$status"
}
trap merge EXIT
{
  echo "# execution-safety-operator performance report, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
} > "$report"
for script in ${BENCHMARKS:-run.sh stop-latency.sh admission-cost.sh scale.sh failover.sh monitor-breach.sh}; do
  echo "== bench/$script" | tee -a "$report"
  bash "bench/$script" | tee -a "$report"
done
echo "report: $report"
