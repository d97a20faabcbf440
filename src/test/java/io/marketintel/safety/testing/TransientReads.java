package io.marketintel.safety.testing;

import org.awaitility.Awaitility;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Every await of every test, from the start of the test run: a read that fails because the API server is busy or
 * restarting (a {@link KubernetesClientException}), or that sees an object before its controller wrote the status
 * the condition reads (a {@link NullPointerException} on a status, its conditions or counts), is polled again
 * instead of ending the await. On a loaded 2-core CI machine both happen (a CRD's status read before the API
 * server wrote it failed CI once, issue 17). The last such exception is the cause of the timeout if the condition
 * never holds; assertion failures still end an await at once. Registered in
 * META-INF/services/org.junit.platform.launcher.LauncherSessionListener.
 */
public final class TransientReads implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        install();
    }

    /** For programs outside JUnit (the benchmarks) too. */
    public static void install() {
        Awaitility.ignoreExceptionsByDefaultMatching(TransientReads::isTransient);
    }

    static boolean isTransient(Throwable e) {
        return e instanceof KubernetesClientException || e instanceof NullPointerException;
    }
}
