{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "records.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name, plus the chart name unless the release already contains it. */}}
{{- define "records.fullname" -}}
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

{{- define "records.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (never add version labels here). */}}
{{- define "records.selectorLabels" -}}
app.kubernetes.io/name: {{ include "records.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "records.labels" -}}
helm.sh/chart: {{ include "records.chart" . }}
{{ include "records.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: records
{{- end }}

{{- define "records.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "records.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "records.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding DATABASE_URL, REDIS_PASSWORD and signing-key.pem. */}}
{{- define "records.secretName" -}}
{{- default (include "records.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "records.hasDatabase" -}}
{{- if or .Values.existingSecret .Values.database.url }}true{{ end }}
{{- end }}

{{- define "records.hasSigningKey" -}}
{{- if or .Values.existingSecret .Values.signingKey.pem }}true{{ end }}
{{- end }}

{{/* Who owns the replica count: keda, hpa, or nobody (then the Deployment sets replicas). */}}
{{- define "records.autoscaler" -}}
{{- if .Values.autoscaling.keda.enabled }}keda{{ else if .Values.autoscaling.hpa.enabled }}hpa{{ end }}
{{- end }}

{{/* The autoscaling query from files/request-rate.promql, scoped to this release's pods. */}}
{{- define "records.requestRateQuery" -}}
{{- $selector := printf "namespace=%q,service=%q" .Release.Namespace (include "records.fullname" .) }}
{{- .Files.Get "files/request-rate.promql" | trim | replace "__SELECTOR__" $selector }}
{{- end }}

{{/* Restricted Pod Security profile, shared by every pod the chart creates. */}}
{{- define "records.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "records.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* DATABASE_URL from a Secret. Takes (dict "root" $ "secretName" NAME). */}}
{{- define "records.databaseEnv" -}}
{{- if include "records.hasDatabase" .root }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: DATABASE_URL
{{- end }}
{{- end }}
