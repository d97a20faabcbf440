#!/usr/bin/env bash
# What the shipped admission policies cost the API server per write, against the number of ExecutionPolicies in the
# write's namespace (issue 22): a pod template change, a scale subresource write and a labelled pod, each a server-side
# dry run, WRITES of each at each size of POLICY_SIZES.
#   bench/admission-cost.sh                          POLICY_SIZES="0 50 300" WRITES=20 (a few minutes on 2 cores)
# Starts its own control plane (no operator); stopped at the end. Table on stdout and in target/admission-cost.txt,
# every figure in target/bench/admission-cost.json.
# A benchmark prints figures; nothing here asserts a speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null
./mvnw -q -B test-compile
./mvnw -q -B exec:java@admission-cost-bench
