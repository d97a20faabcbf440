/**
 * The {@code safety.marketintel.io/v1alpha1} API: {@link io.marketintel.safety.api.v1alpha1.ExecutionPolicy}
 * (one per trading system) and the cluster-scoped singleton
 * {@link io.marketintel.safety.api.v1alpha1.ExecutionSafety} named {@code global}.
 *
 * <p>The types are plain data carriers with public fields: Jackson and the Fabric8 CRD generator read
 * them directly, and the generated CRD in {@code k8s/crds/} is the contract users see. Every rule the
 * API server can check (enums, required fields, ranges, patterns, CEL) is declared here so a bad manifest
 * is refused at {@code kubectl apply} with a message naming the field. Rules that need the cluster or the
 * clock live in the operator and surface as status conditions.
 */
package io.marketintel.safety.api.v1alpha1;
