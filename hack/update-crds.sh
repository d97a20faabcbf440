#!/usr/bin/env bash
# Regenerates k8s/crds from the Java API types (src/main/java/io/marketintel/safety/api), then the
# chart's copy of them and k8s/operator (hack/render-manifests.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./mvnw -q -DskipTests package test-compile
./mvnw -q exec:java@update-crds
# The chart carries a copy of the CRDs (crds/), and k8s/operator is rendered from the chart.
bash hack/render-manifests.sh
