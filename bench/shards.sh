#!/usr/bin/env bash
# A sharded install (issue 22, item 6; the chart's `shards`): SHARDS operator processes (3), one replica each, each
# governing its own namespaces on a Lease of its own; POLICIES policies (3000) round robin over NAMESPACES namespaces
# (2 per shard). From the first create until all are Ready, each shard's reconciles, CPU and RSS; then a cluster-wide
# stop: until every shard's workloads are at zero replicas and every policy is EmergencyStopped.
#   CONTROLLER_QPS=500 bench/shards.sh                 3,000 policies over 3 shards (tens of minutes on 2 cores)
#   POLICIES=30 SHARDS=3 bench/shards.sh               a smoke run
#   JVM_OPTS=... OPERATOR_JAVA=... bench/shards.sh     as for bench/scale.sh
# Starts its own control plane and the packaged operators as processes; all stopped at the end. Table on stdout and in
# target/shard-bench.txt, every figure in target/bench/shards.json. A benchmark prints figures; nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null
./mvnw -q -B package -DskipTests
./mvnw -q -B exec:java@shard-bench
