{{/*
The operator's Deployment: the one of the release (shard nil), or one shard's (shards[]: its own name, Lease,
namespaces and the pod label app.kubernetes.io/component=shard-<name>; only the first shard writes the status of
ExecutionSafety/global). Called with (dict "root" $ "shard" SHARD-or-nil "index" N).
*/}}
{{- define "execution-safety-operator.deployment" -}}
{{- $root := .root }}
{{- $shard := .shard }}
{{- $fullname := include "execution-safety-operator.fullname" $root }}
{{- $name := $fullname }}
{{- $lease := include "execution-safety-operator.leaseName" $root }}
{{- $namespaces := include "execution-safety-operator.watchedNamespaces" $root }}
{{- $component := "" }}
{{- $otherShard := and $shard (gt (int .index) 0) }}
{{- if $shard }}
{{- $name = printf "%s-%s" $fullname $shard.name }}
{{- $lease = printf "%s-%s" $lease $shard.name }}
{{- $namespaces = join "," (uniq $shard.namespaces) }}
{{- $component = printf "shard-%s" $shard.name }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "execution-safety-operator.labels" $root | nindent 4 }}
    {{- with $component }}
    app.kubernetes.io/component: {{ . }}
    {{- end }}
spec:
  replicas: {{ $root.Values.replicas }}
  selector:
    matchLabels:
      {{- include "execution-safety-operator.selectorLabels" $root | nindent 6 }}
      {{- with $component }}
      app.kubernetes.io/component: {{ . }}
      {{- end }}
  template:
    metadata:
      labels:
        {{- include "execution-safety-operator.labels" $root | nindent 8 }}
        {{- with $component }}
        app.kubernetes.io/component: {{ . }}
        {{- end }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $root.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "execution-safety-operator.serviceAccountName" $root }}
      automountServiceAccountToken: true
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: operator
          image: {{ include "execution-safety-operator.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          env:
            # The policies' namespaces (a comma list, or every namespace).
            - name: QUARKUS_OPERATOR_SDK_CONTROLLERS_EXECUTIONPOLICY_NAMESPACES
              value: {{ $namespaces | quote }}
            # Leader election on a Lease in the pod's own namespace; the pod name identifies the holder.
            - name: EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAME
              value: {{ $lease | quote }}
            - name: EXECUTION_SAFETY_LEADER_ELECTION_LEASE_DURATION
              value: {{ $root.Values.leaderElection.leaseDuration | quote }}
            - name: EXECUTION_SAFETY_LEADER_ELECTION_RENEW_DEADLINE
              value: {{ $root.Values.leaderElection.renewDeadline | quote }}
            - name: EXECUTION_SAFETY_LEADER_ELECTION_RETRY_PERIOD
              value: {{ $root.Values.leaderElection.retryPeriod | quote }}
            {{- if $otherShard }}
            # The first shard's leader writes the status of ExecutionSafety/global (two would overwrite each other).
            - name: EXECUTION_SAFETY_CLUSTER_STATUS_ENABLED
              value: "false"
            {{- end }}
            - name: QUARKUS_LOG_CONSOLE_JSON_ENABLED
              value: {{ $root.Values.logging.json | quote }}
            - name: QUARKUS_LOG_CATEGORY__IO_MARKETINTEL__LEVEL
              value: {{ $root.Values.logging.level | quote }}
            {{- with $root.Values.jvmOptions }}
            - name: JAVA_TOOL_OPTIONS
              value: {{ . | quote }}
            {{- end }}
            {{- with $root.Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          # The HTTP server opens only after the kill switch's start-up sweep (every stopped policy zeroed
          # before anything else) and the Operator SDK's informers have started, each of which may wait up
          # to 2m on a slow API server: 5 minutes before liveness takes over.
          startupProbe:
            httpGet:
              path: /q/health/started
              port: http
            periodSeconds: 5
            failureThreshold: 60
            timeoutSeconds: 5
          # Down when the kill switch's watches stopped: this replica could not apply a stop; restart it.
          livenessProbe:
            httpGet:
              path: /q/health/live
              port: http
            periodSeconds: 10
            failureThreshold: 3
            timeoutSeconds: 5
          # Ready once the start-up sweep is done and the kill switch sees every kind of stop (a healthy
          # standby is ready too).
          readinessProbe:
            httpGet:
              path: /q/health/ready
              port: http
            periodSeconds: 5
            failureThreshold: 3
            timeoutSeconds: 5
          resources:
            {{- toYaml $root.Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            # The only writable path (the root filesystem is read-only): JVM and Vert.x temporary files.
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- if $root.Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $root.Values.topologySpread.topologyKeys }}
        - topologyKey: {{ . }}
          maxSkew: {{ $root.Values.topologySpread.maxSkew }}
          whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "execution-safety-operator.selectorLabels" $root | nindent 14 }}
              {{- with $component }}
              app.kubernetes.io/component: {{ . }}
              {{- end }}
          matchLabelKeys: [pod-template-hash]
        {{- end }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
