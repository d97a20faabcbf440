package io.marketintel.safety.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Turns the CRDs the build generates (target/kubernetes) into the committed ones (k8s/crds). The only
 * change is the order of printer columns: the generator sorts them by jsonPath (Age first), while
 * {@code kubectl get xp} should read Desired, Effective, Phase, Ready, Age ({@link #COLUMN_ORDER}). The drift test compares the
 * committed files with this rendering, so any other difference fails the build.
 */
public final class CrdSync {
    public static final Path GENERATED = Path.of("target", "kubernetes");
    public static final Path COMMITTED = Path.of("k8s", "crds");
    /** kubectl get xp: Desired, Effective, Phase, Ready, Age; kubectl get xsafety: Stopped, By, Epoch, Latched, Ready, Age, Reason (long, last). */
    private static final List<String> COLUMN_ORDER = List.of("Desired", "Effective", "Phase", "Stopped", "By", "Epoch", "Latched",
            "Ready", "Age", "Reason");
    private static final String HEADER = "# Generated from src/main/java/io/marketintel/safety/api by the build; "
            + "refresh with hack/update-crds.sh, do not edit.\n";

    private CrdSync() {
    }

    /** committed file name → expected content, from the generated CRDs. */
    public static Map<String, String> render(Path generatedDir) throws IOException {
        KubernetesSerialization serialization = new KubernetesSerialization();
        Map<String, String> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(generatedDir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith("-v1.yml")).sorted().toList()) {
                CustomResourceDefinition crd = serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
                crd.getSpec().getVersions().forEach(v -> {
                    if (v.getAdditionalPrinterColumns() != null) {
                        List<CustomResourceColumnDefinition> columns = new ArrayList<>(v.getAdditionalPrinterColumns());
                        columns.sort(Comparator.comparingInt(c -> rank(c.getName())));
                        v.setAdditionalPrinterColumns(columns);
                    }
                });
                out.put(crd.getMetadata().getName() + ".yaml", HEADER + serialization.asYaml(crd).replaceFirst("^---\n", ""));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no generated CRDs in " + generatedDir + ": run ./mvnw package first");
        }
        return out;
    }

    private static int rank(String column) {
        int i = COLUMN_ORDER.indexOf(column);
        return i < 0 ? COLUMN_ORDER.indexOf("Age") : i;
    }

    /** hack/update-crds.sh: rewrite k8s/crds from the last build. */
    public static void main(String[] args) throws IOException {
        Files.createDirectories(COMMITTED);
        for (var e : render(GENERATED).entrySet()) {
            Files.writeString(COMMITTED.resolve(e.getKey()), e.getValue());
            System.out.println("wrote " + COMMITTED.resolve(e.getKey()));
        }
    }
}
