#!/usr/bin/env bash
# Least privilege, checked by mutation: for each grant of the chart's operator RBAC (the ClusterRoles and the
# leader-election Role a default `helm install` creates), take it away, restart the operator as the chart's
# ServiceAccount, run every chainsaw suite, and require at least one suite to fail; then restore it.
#   e2e/rbac-mutations.sh              one whole rule at a time (about 1.5 minutes per rule)
#   e2e/rbac-mutations.sh permissions  one verb on one resource at a time (every verb must be needed; ~1 hour)
#   e2e/rbac-mutations.sh permissions core/pods   only the grants whose label contains "core/pods" (also for rules)
# Exits non-zero if the suites fail with the RBAC as installed, or if some grant is needed by no suite.
# Table on stdout and in target/e2e-mutations/rbac-mutations-<mode>.md; logs in target/e2e-mutations/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash hack/build-tools.sh >/dev/null   # control-plane binaries, helm, chainsaw (builds nothing when present)
./mvnw -q -B package -DskipTests      # the operator jar and the test classes
./mvnw -q -B exec:java@rbac-mutations -Dexec.args="${1:-rules}${2:+ $2}"
