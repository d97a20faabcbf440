#!/usr/bin/env bash
# Emergency-stop latency: from `kubectl annotate namespace NS safety.marketintel.io/emergency-stop=...` until a
# watch sees replicas=0 on every workload, and until a watch on pods sees no pod of them left (none without a
# deletionTimestamp; none at all), against `kubectl scale --replicas=0 --all` (Deployments and StatefulSets), one
# `kubectl scale` per workload, and `kubectl delete pods --all` (pods only: the controllers recreate them, so only the
# pods that existed at t0 are counted); p50/p95/p99 per size, workload set and method, in ms.
#   bench/stop-latency.sh                                  N = 1, 100, 500 workloads, WORKLOADS="mixed unready",
#                                                          30 runs of each method (5 in the unready variant)
#                                                          (about 4 hours on 2 cores, an estimate: at N=500 one
#                                                          `kubectl scale --all` takes ~100 s, paced by kubectl's
#                                                          own rate limit)
#   SIZES=500 BASELINE_RUNS=5 bench/stop-latency.sh        30 operator stops, 5 of each kubectl baseline
#   SIZES="1 10" RUNS=3 BASELINE_RUNS=2 bench/stop-latency.sh
#                                                          a smoke run (~15 min on a loaded 2-core machine, most of
#                                                          it runs of the unready variant waiting out their DEADLINE)
#   WORKLOADS=mixed                                        which sets of workloads, one table each: deployments (N
#                                                          Deployments), mixed (every 5th workload a StatefulSet of
#                                                          2 pods, OrderedReady), unready (mixed, and before each run
#                                                          the StatefulSets' pods are made Running but not Ready)
#   UNREADY_RUNS=5                                         runs of each method in the unready variant (at most RUNS)
#   DEADLINE=60                                            seconds after its kubectl command returned that a run
#                                                          waits for each figure; then it records `timeout`
#   LOOP_MAX=100 bench/stop-latency.sh                     skip the one-kubectl-per-workload loop above N=100
#   CONTROLLER_QPS=                                        kube-controller-manager at its default 20 requests/s:
#                                                          the untimed resets (500 workloads back up) then take
#                                                          minutes; the default here, 500, changes only them
#   KWOK_POD_PARALLELISM=32                                pod stages kwok plays at once (empty: kwok's 4); one fake
#                                                          kubelet plays all pods, a real cluster has one per node
#   BASELINES=false, JFR=FILE, REQUEST_MIX=true, JVM_OPTS  see bench/README.md
# Starts its own control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and the packaged
# operator as a process; both are stopped at the end. Table also in target/stop-latency.txt, every figure in
# target/stop-latency.json (one record per size, workload set, method and metric) and in target/bench/stop-latency.json
# (the schema every benchmark writes, bench/README.md).
# A benchmark is a script that prints figures, never a test: nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CONTROLLER_QPS="${CONTROLLER_QPS-500}"
export KWOK_POD_PARALLELISM="${KWOK_POD_PARALLELISM-32}"   # the fake kubelet's workers (kwok's default 4; README)

bash hack/build-tools.sh >/dev/null   # etcd, kube-apiserver, ... (builds nothing when present)
./mvnw -q -B package -DskipTests      # the operator jar it runs, and the bench class (test classpath)
./mvnw -q -B exec:java@stop-latency-bench
