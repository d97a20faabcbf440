#!/usr/bin/env bash
# Emergency-stop latency: from `kubectl annotate namespace NS safety.marketintel.io/emergency-stop=...` until a
# watch sees replicas=0 on every Deployment, against `kubectl scale` by hand; p50/p95/p99 per size, in ms.
#   bench/stop-latency.sh                                  N = 1, 100, 500 workloads, 10 runs each
#   SIZES="1 10" RUNS=2 bench/stop-latency.sh              a smoke run
#   LOOP_MAX=500 bench/stop-latency.sh                     also time one kubectl per deployment at N=500 (slow)
# Starts its own control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and the packaged
# operator as a process; both are stopped at the end. Table also in target/stop-latency.txt.
# A benchmark is a script that prints figures, never a test: nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null   # etcd, kube-apiserver, ... (builds nothing when present)
./mvnw -q -B package -DskipTests      # the operator jar it runs, and the bench class (test classpath)
./mvnw -q -B exec:java@stop-latency-bench
