#!/usr/bin/env bash
# Leader fail-over (issue 22): two operator replicas on one Lease and one policy; the leader is stopped RUNS times,
# SIGKILL and SIGTERM alternating, and a mode change written at that moment. Prints, from the stop, when the standby
# leads and when the change is reconciled.
#   bench/failover.sh                       RUNS=6 (a few minutes on 2 cores)
#   OPERATOR_JAVA=... JVM_OPTS=... bench/failover.sh   another runtime, other JVM or lease settings
# Starts its own control plane and the packaged operator as two processes; stopped at the end. Table on stdout and in
# target/failover-bench.txt, every figure in target/bench/failover.json. A benchmark prints figures; nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null
./mvnw -q -B package -DskipTests
./mvnw -q -B exec:java@failover-bench
