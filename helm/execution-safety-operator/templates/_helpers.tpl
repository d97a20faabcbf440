{{/* Chart name, overridable with nameOverride. */}}
{{- define "execution-safety-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (DNS label). The release name is used as is when it
already contains the chart name.
*/}}
{{- define "execution-safety-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "execution-safety-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of the chart. */}}
{{- define "execution-safety-operator.labels" -}}
helm.sh/chart: {{ include "execution-safety-operator.chart" . }}
{{ include "execution-safety-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: execution-safety
{{- end }}

{{/* Selector labels (stable across upgrades: never add a value that changes). */}}
{{- define "execution-safety-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "execution-safety-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's ServiceAccount: the chart's own, or one you manage (serviceAccount.create=false). */}}
{{- define "execution-safety-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "execution-safety-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease the replicas elect a leader on (in the release namespace). */}}
{{- define "execution-safety-operator.leaseName" -}}
{{- default (include "execution-safety-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The operator image: repository@digest when a digest is set, else repository:tag (tag default: appVersion). */}}
{{- define "execution-safety-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaces whose ExecutionPolicies the operator governs, as the operator's setting
quarkus.operator-sdk.controllers.executionpolicy.namespaces: a comma list, or JOSDK_ALL_NAMESPACES.
*/}}
{{- define "execution-safety-operator.watchedNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- join "," (uniq .Values.watchNamespaces) }}
{{- else }}
{{- "JOSDK_ALL_NAMESPACES" }}
{{- end }}
{{- end }}


{{/* The operator's ServiceAccount as an RBAC subject. */}}
{{- define "execution-safety-operator.subject" -}}
- kind: ServiceAccount
  name: {{ include "execution-safety-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
Refuses shard values the schema cannot: shards together with watchNamespaces, two shards of one name, a namespace
in two shards (each namespace's policies must have exactly one owner). Renders nothing.
*/}}
{{- define "execution-safety-operator.checkShards" -}}
{{- if .Values.shards }}
{{- if .Values.watchNamespaces }}
{{- fail "shards and watchNamespaces are exclusive: with shards, the namespaces governed are the shards' (shards[].namespaces); set watchNamespaces=[]" }}
{{- end }}
{{- $names := dict }}
{{- $owner := dict }}
{{- range $shard := .Values.shards }}
{{- if hasKey $names $shard.name }}
{{- fail (printf "shards: two shards are named %q (shards[].name must be unique: it names the shard's Deployment and Lease)" $shard.name) }}
{{- end }}
{{- $_ := set $names $shard.name true }}
{{- range $ns := $shard.namespaces }}
{{- if hasKey $owner $ns }}
{{- fail (printf "shards: namespace %q is in shards %q and %q (a namespace's policies must have exactly one shard)" $ns (get $owner $ns) $shard.name) }}
{{- end }}
{{- $_ := set $owner $ns $shard.name }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Every namespace governed by this release, as a list: watchNamespaces, or the shards' namespaces (empty: all). */}}
{{- define "execution-safety-operator.governedNamespaces" -}}
{{- $all := list }}
{{- if .Values.shards }}
{{- range .Values.shards }}
{{- $all = concat $all .namespaces }}
{{- end }}
{{- else }}
{{- $all = .Values.watchNamespaces }}
{{- end }}
{{- toJson (uniq $all) }}
{{- end }}
