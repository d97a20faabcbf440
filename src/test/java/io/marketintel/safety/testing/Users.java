package io.marketintel.safety.testing;

import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** People in a test namespace: RoleBindings to the shipped roles, and kubectl impersonating them. */
public final class Users {
    private final KubernetesClient client;
    private final Kubectl kubectl;
    private final String namespace;

    public Users(KubernetesClient client, Kubectl kubectl, String namespace) {
        this.client = client;
        this.kubectl = kubectl;
        this.namespace = namespace;
    }

    /** Binds {@code user} to a shipped ClusterRole (execution-policy-editor, execution-approver) in the namespace. */
    public Users bind(String user, String clusterRole) {
        bind(client, namespace, "User", user, null, clusterRole);
        return this;
    }

    /**
     * A RoleBinding in {@code namespace} of a User or ServiceAccount ({@code kind}; {@code subjectNamespace} for a
     * ServiceAccount) to a ClusterRole: how every test tier gives people and controllers their roles.
     */
    public static void bind(KubernetesClient client, String namespace, String kind, String name, String subjectNamespace,
            String clusterRole) {
        client.rbac().roleBindings().inNamespace(namespace).resource(new RoleBindingBuilder()
                .withNewMetadata().withName(bindingName(name) + "-" + clusterRole).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(clusterRole).endRoleRef()
                .addNewSubject().withApiGroup("ServiceAccount".equals(kind) ? "" : "rbac.authorization.k8s.io").withKind(kind)
                .withName(name).withNamespace(subjectNamespace).endSubject()
                .build()).create();
    }

    /**
     * Lets {@code user} get and patch every Namespace (a risk officer who sets namespace stops), by a ClusterRole and a
     * ClusterRoleBinding named {@code name}; closing it deletes both.
     */
    public static AutoCloseable namespaceWriter(KubernetesClient client, String user, String name) {
        client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(name).endMetadata()
                .addNewRule().withApiGroups("").withResources("namespaces").withVerbs("get", "patch").endRule().build()).create();
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(name).endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName(user).endSubject().build()).create();
        return () -> {
            client.rbac().clusterRoleBindings().withName(name).delete();
            client.rbac().clusterRoles().withName(name).delete();
        };
    }

    /** A RoleBinding name for any user name (spaces, e-mail addresses, upper case): readable and unique. */
    static String bindingName(String user) {
        String plain = user.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        return plain.equals(user) ? user : plain + "-" + Integer.toHexString(user.hashCode());
    }

    /** kubectl --as=user -n namespace ARGS, with {@code stdin} when not null. */
    public Kubectl.Result as(String user, String stdin, String... args) {
        String[] full = new String[args.length + 4];
        full[0] = "--as=" + user;
        full[1] = "-n";
        full[2] = namespace;
        System.arraycopy(args, 0, full, 3, args.length);
        full[full.length - 1] = "--request-timeout=30s";
        return kubectl.runWithInput(stdin, full);
    }

    /** kubectl annotate as {@code user}: the one command an approver runs. */
    public Kubectl.Result approve(String user, String policy, String token) {
        return as(user, null, "annotate", "xp", policy, "safety.marketintel.io/approve=" + token);
    }
}
