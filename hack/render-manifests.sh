#!/usr/bin/env bash
# Keeps the Helm chart and the plain manifests in step with k8s/:
#   1. copies k8s/crds, k8s/admission and k8s/rbac/user-roles.yaml into the chart
#      (helm/execution-safety-operator/{crds,files/admission,files/rbac}: a chart cannot read outside itself);
#   2. renders the chart with its default values, release execution-safety-operator in namespace
#      execution-safety, into k8s/operator/:
#        operator.yaml    everything but the monitoring objects (applies on any cluster)
#        monitoring.yaml  the PrometheusRule and the Grafana dashboard ConfigMap (need the Prometheus Operator's CRDs)
#      Together they are exactly `helm template` with default values.
# Tests (io.marketintel.safety.packaging.ChartDriftTest) fail until this has been run and the result committed.
#
#   hack/render-manifests.sh             do both
#   hack/render-manifests.sh --out DIR   only render, into DIR (what the drift test compares); changes nothing else
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHART=helm/execution-safety-operator
OUT=k8s/operator
SYNC=1
if [[ "${1:-}" == "--out" ]]; then
  OUT="${2:?--out needs a directory}"
  SYNC=0
fi
HELM="${HELM:-$(bash hack/build-tools.sh)/helm}"

if [[ $SYNC == 1 ]]; then
  rm -f "$CHART"/crds/*.yaml
  cp k8s/crds/*.yaml "$CHART/crds/"
  cp k8s/admission/execution-safety-admission.yaml "$CHART/files/admission/"
  cp k8s/rbac/user-roles.yaml "$CHART/files/rbac/"
fi

mkdir -p "$OUT"
HEADER="# Rendered from $CHART with its default values by hack/render-manifests.sh; do not edit."
render() { "$HELM" template execution-safety-operator "$CHART" --namespace execution-safety "$@"; }
{
  echo "$HEADER"
  echo "# Apply after k8s/crds and k8s/operator/namespace.yaml (see k8s/operator/README.md)."
  render --set monitoring.prometheusRule.enabled=false --set monitoring.dashboard.enabled=false
} > "$OUT/operator.yaml"
{
  echo "$HEADER"
  echo "# Needs the Prometheus Operator's CRDs (monitoring.coreos.com) and Grafana's dashboard sidecar."
  render --show-only templates/prometheusrule.yaml --show-only templates/dashboard.yaml
} > "$OUT/monitoring.yaml"
echo "rendered $OUT/operator.yaml and $OUT/monitoring.yaml" >&2
