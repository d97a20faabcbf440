#!/usr/bin/env bash
# Emergency-stop latency: from `kubectl annotate namespace NS safety.marketintel.io/emergency-stop=...` until a
# watch sees replicas=0 on every Deployment, against `kubectl scale` by hand; p50/p95/p99 per size, in ms.
#   bench/stop-latency.sh                                  N = 1, 100, 500 workloads, 30 runs of each method
#                                                          (about 2.5 hours on 2 cores: at N=500 one `kubectl scale
#                                                          --all` takes ~100 s, paced by kubectl's own rate limit)
#   SIZES=500 BASELINE_RUNS=5 bench/stop-latency.sh        30 operator stops, 5 of each kubectl baseline
#   SIZES="1 10" RUNS=2 bench/stop-latency.sh              a smoke run
#   LOOP_MAX=100 bench/stop-latency.sh                     skip the one-kubectl-per-deployment loop above N=100
#   CONTROLLER_QPS=                                        kube-controller-manager at its default 20 requests/s:
#                                                          the untimed resets (500 Deployments back up) then take
#                                                          minutes; the default here, 500, changes only them
# Starts its own control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and the packaged
# operator as a process; both are stopped at the end. Table also in target/stop-latency.txt.
# A benchmark is a script that prints figures, never a test: nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CONTROLLER_QPS="${CONTROLLER_QPS-500}"

bash hack/build-tools.sh >/dev/null   # etcd, kube-apiserver, ... (builds nothing when present)
./mvnw -q -B package -DskipTests      # the operator jar it runs, and the bench class (test classpath)
./mvnw -q -B exec:java@stop-latency-bench
