package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AdmissionControlTest {

    /** A policy the operator may not read is reported with the RBAC resource to grant: the name must be right. */
    @Test
    void anUnreadablePolicyNamesTheResourceItsRbacNeeds() {
        assertThat(AdmissionControl.REQUIRED).extracting(r -> AdmissionControl.plural(r[0])).containsOnly(
                "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies",
                "mutatingadmissionpolicybindings");
    }
}
