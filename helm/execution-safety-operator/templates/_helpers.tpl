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
