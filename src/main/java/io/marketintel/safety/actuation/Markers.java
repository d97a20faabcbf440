package io.marketintel.safety.actuation;

import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * Aliases kept only for ExecutionPolicyReconciler and KillSwitch, which are being rewritten on other branches:
 * the names live in {@link MetadataNames}. Delete this class once those two files refer to MetadataNames.
 */
public final class Markers {
    /** Alias of {@link MetadataNames#FIELD_MANAGER}. */
    public static final String FIELD_MANAGER = MetadataNames.FIELD_MANAGER;
    /** Alias of {@link MetadataNames#POLICY_LABEL}. */
    public static final String POLICY_LABEL = MetadataNames.POLICY_LABEL;

    private Markers() {
    }
}
