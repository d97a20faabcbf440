#!/usr/bin/env bash
# Every benchmark, one after the other, into one report (target/performance-report.txt): the JMH guard and
# decision costs, emergency-stop latency against kubectl, the admission policies' cost per write, throughput and
# footprint with 1,000 policies, then leader fail-over.
# Settings of each script pass through (RUNS, BASELINE_RUNS, SIZES, WORKLOADS, UNREADY_RUNS, DEADLINE, LOOP_MAX,
# POLICIES, NAMESPACES, IDLE, CONTROLLER_QPS, JVM_OPTS, JVM_OPTS_APPEND, OPERATOR_JAVA, NMT, POLICY_SIZES, WRITES; RUNS also sets the
# fail-over runs); the defaults take roughly 4 to 5 hours on 2 cores (an estimate:
# the stop benchmark with StatefulSets, pod figures and the unready variant has not yet run at its defaults). docs/performance.md shows one report and how
# to read it. Nothing here asserts a speed: it exits non-zero only if a benchmark failed to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p target
report=target/performance-report.txt
{
  echo "# execution-safety-operator performance report, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
} > "$report"
for script in run.sh stop-latency.sh admission-cost.sh scale.sh failover.sh; do
  echo "== bench/$script" | tee -a "$report"
  bash "bench/$script" | tee -a "$report"
done
echo "report: $report"
