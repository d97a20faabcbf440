/**
 * Risk monitors (issue 23). The pure part: how one evaluation of a monitor's query moves its state and whether it
 * breaches. A monitor compares what a Prometheus query returns with a threshold; the condition must hold at every
 * evaluation for a set time before it breaches, and a breach asks for the monitor's action (the latched emergency stop,
 * or a step back to DryRun). What a missing series, NaN, a stale sample or a failed query mean is the policy's choice.
 * {@link io.marketintel.safety.monitor.MonitorEvaluation#next} is a function of the rule, the state before and one
 * reading; no client, no clock of its own.
 * <p>
 * The query client: {@link io.marketintel.safety.monitor.PrometheusQuery} sends one instant query to the Prometheus
 * a {@link io.marketintel.safety.monitor.PrometheusEndpoint} names (http or https, bearer token, PEM client certificate
 * and CA bundle, timeout) and turns the answer into a {@link io.marketintel.safety.monitor.Reading}; every failure is a
 * {@link io.marketintel.safety.monitor.Reading.Failed} within the timeout, never an exception.
 * <p>
 * The shell: {@link io.marketintel.safety.monitor.MonitorScheduler} evaluates, on the leader, every monitor that is due
 * ({@link io.marketintel.safety.monitor.Declared}) against the Prometheus {@code ExecutionSafety/global} names, sets the
 * stop annotation of a policy whose monitor breached, and hands a de-escalation and each monitor's phase to the policy's
 * pass.
 */
package io.marketintel.safety.monitor;
