#!/usr/bin/env bash
# Throughput and footprint of one operator replica: start-up to ready; POLICIES policies (one Deployment each)
# from the first create until all are Ready, and reconciles/s; RSS and heap after IDLE seconds idle; restart.
#   bench/scale.sh                         1,000 policies, 60 s idle (about 10 minutes on 2 cores)
#   POLICIES=100 IDLE=5 bench/scale.sh     a smoke run
#   CONTROLLER_QPS=500 bench/scale.sh      kube-controller-manager at 500 requests/s, not its default 20
#   NMT=true bench/scale.sh                also the operator's native memory by category
#   JVM_OPTS="-Xmx512m" bench/scale.sh     other JVM options for the operator (default: a chart pod's)
#   OPERATOR_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/scale.sh   another runtime for the operator
# Starts its own control plane and the packaged operator as a process; both are stopped at the end.
# Table on stdout and in target/scale-bench.txt, every figure in target/bench/scale.json. A benchmark prints figures; nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null
./mvnw -q -B package -DskipTests
./mvnw -q -B exec:java@scale-bench
