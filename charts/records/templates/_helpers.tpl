{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "records.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The port the service listens on in its container, whatever service.port is: above 1024, since the
pod runs as a non-root user with every capability dropped. It was service.port, and 80 made the pod
crash-loop wherever the runtime keeps ports below 1024 privileged (containerd 1.7's default).
*/}}
{{- define "records.containerPort" -}}
8000
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

{{/*
Where the records live: "external" (database.url or existingSecret: a database that exists before
the release) or "bundled" (this chart's single-instance MariaDB). Anything else would give each pod
a database of its own, so it fails the render.
*/}}
{{- define "records.databaseMode" -}}
{{- if or .Values.existingSecret .Values.database.url }}external
{{- else if .Values.mariadb.enabled }}bundled
{{- else }}{{ fail "no database: set database.url, existingSecret, or mariadb.enabled=true" }}
{{- end }}
{{- end }}

{{/*
The Deployment's Argo CD sync wave when bundled: after the bundled MariaDB (wave 0) and the
migrations Job (wave 1). What scales the Deployment comes in the same wave: KEDA's webhook refuses
a ScaledObject whose Deployment does not exist yet, and an HPA without one fails its wave.
*/}}
{{- define "records.workloadWave" -}}
{{- if eq (include "records.databaseMode" .) "bundled" }}2{{ end }}
{{- end }}

{{/*
`<fullname>-<suffix>` within `limit` characters: the fullname is cut, never the suffix. Cutting the
whole name cut the suffix first, so a long release's `-migrate` objects took the service's own
names. Called with (list . "suffix" limit).
*/}}
{{- define "records.suffixedName" -}}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "records.fullname" (index . 0) | trunc (int (sub (index . 2) (add1 (len $suffix)))) | trimSuffix "-") $suffix }}
{{- end }}

{{/* 52 characters at most: a StatefulSet's pods carry `<name>-<revision hash>` in a label (63). */}}
{{- define "records.mariadbName" -}}
{{- include "records.suffixedName" (list . "mariadb" 52) }}
{{- end }}

{{/* The Secret that `records init-secret` fills in the cluster (see templates/generated-secret.yaml). */}}
{{- define "records.generatedSecretName" -}}
{{- /* Cut as it always was: a new name would make a new signing key and passwords on upgrade; only where that cut gave the fullname itself is the suffix kept. */}}
{{- $fullname := include "records.fullname" . }}
{{- $name := printf "%s-generated" $fullname | trunc 63 | trimSuffix "-" }}
{{- if eq $name $fullname }}{{ include "records.suffixedName" (list . "generated" 63) }}{{ else }}{{ $name }}{{ end }}
{{- end }}

{{/* The keys that Secret must hold: MariaDB passwords when bundled, a signing key when none is given. */}}
{{- define "records.generatedKeys" -}}
{{- $keys := list }}
{{- if eq (include "records.databaseMode" .) "bundled" }}{{ $keys = concat $keys (list "mariadb-password" "mariadb-root-password") }}{{ end }}
{{- if not (or .Values.existingSecret .Values.signingKey.pem) }}{{ $keys = append $keys "signing-key.pem" }}{{ end }}
{{- join "," $keys }}
{{- end }}

{{/* The Secret holding signing-key.pem: existingSecret (where it is optional), the chart's, or the generated one. */}}
{{- define "records.signingKeySecret" -}}
{{- if .Values.existingSecret }}{{ .Values.existingSecret }}
{{- else if .Values.signingKey.pem }}{{ include "records.fullname" . }}
{{- else }}{{ include "records.generatedSecretName" . }}
{{- end }}
{{- end }}

{{/* The issuer URL of tokens the service mints: where its JWKS is served inside the cluster. */}}
{{- define "records.serviceIssuer" -}}
{{- default (printf "http://%s.%s.svc.cluster.local:%v" (include "records.fullname" .) .Release.Namespace .Values.service.port) .Values.config.serviceIssuer }}
{{- end }}

{{/*
Who owns the replica count: keda, hpa, or nobody (then the Deployment sets replicas). KEDA only
where the cluster serves its ScaledObject API (helm install and Argo CD render with the cluster's
API versions); elsewhere a CPU HPA stands in, with KEDA's bounds, unless keda.required says a
render without KEDA is an error (GitOps: no silent switch while KEDA's CRDs are on their way).
*/}}
{{- define "records.autoscaler" -}}
{{- $keda := .Values.autoscaling.keda }}
{{- if $keda.enabled }}
{{- if .Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject" }}keda
{{- else if $keda.required }}{{ fail "autoscaling.keda.required: the cluster serves no keda.sh/v1alpha1 ScaledObject API; install KEDA (its CRDs) first, or set autoscaling.keda.required=false to scale on CPU without it" }}
{{- else }}hpa{{ end }}
{{- else if .Values.autoscaling.hpa.enabled }}hpa{{ end }}
{{- end }}

{{/* The labels Prometheus gives this release's pods' series (target discovery by Service). */}}
{{- define "records.metricsSelector" -}}
{{- printf "namespace=%q,service=%q" .Release.Namespace (include "records.fullname" .) }}
{{- end }}

{{/* Seconds in a duration of the schema's form (a number, then s, m or h). */}}
{{- define "records.durationSeconds" -}}
{{- $unit := trunc -1 . -}}
{{- mul (trimSuffix $unit . | atoi) (get (dict "s" 1 "m" 60 "h" 3600) $unit) -}}
{{- end }}

{{/* The autoscaling query from files/request-rate.promql, scoped to this release's pods. */}}
{{- define "records.requestRateQuery" -}}
{{- .Files.Get "files/request-rate.promql" | trim | replace "__SELECTOR__" (include "records.metricsSelector" .) | replace "__WINDOW__" .Values.autoscaling.keda.prometheus.rateWindow }}
{{- end }}

{{/* The rules of files/alerts.yaml for this release: its series, its objectives. */}}
{{- define "records.alertRules" -}}
{{- $rule := .Values.prometheusRule }}
{{- $le := $rule.latencyThreshold }}
{{- /* Prometheus 3 stores a whole-number bucket bound as "1.0" (Prometheus 2 as "1"): match both. */}}
{{- $leMatcher := ternary (printf "le=%q" $le) (printf "le=~\"%s|%s\\\\.0\"" $le $le) (contains "." $le) }}
{{- tpl (.Files.Get "files/alerts.yaml") . | replace "__SELECTOR__" (include "records.metricsSelector" .) | replace "__NAMESPACE__" .Release.Namespace | replace "__NAME__" (include "records.fullname" .) | replace "__AVAILABILITY__" (toString $rule.availabilityObjective) | replace "__LATENCY__" (toString $rule.latencyObjective) | replace "__LATENCY_LE_MATCHER__" $leMatcher | replace "__LATENCY_LE__" $le }}
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

{{/*
The database settings of a container. External: DATABASE_URL from a Secret (takes "secretName").
Bundled: the URL of the chart's MariaDB, without a password, and DATABASE_PASSWORD from the
generated Secret. Takes (dict "root" $ "secretName" NAME).
*/}}
{{- define "records.databaseEnv" -}}
{{- if eq (include "records.databaseMode" .root) "external" }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: DATABASE_URL
{{- with .root.Values.database.passwordSecret.name }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.root.Values.database.passwordSecret.key }}
{{- end }}
{{- else }}
- name: DATABASE_URL
  value: {{ printf "mysql://records@%s:3306/records" (include "records.mariadbName" .root) | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "records.generatedSecretName" .root }}
      key: mariadb-password
{{- end }}
{{- end }}

{{/* NetworkPolicy egress to DNS, for every pod the chart runs. */}}
{{- /* DNS to the cluster's resolver only (networkPolicy.dnsPeers): port 53 to any address would be a way out for anything. */}}
{{- define "records.dnsEgress" -}}
- {{- include "records.egressTo" .Values.networkPolicy.dnsPeers | nindent 2 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* An egress rule's `to:` from a list of NetworkPolicy peers; none (an explicit []) means any address. */}}
{{- define "records.egressTo" -}}
{{- with . -}}
to:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "records.mariadbSelectorLabels" -}}
app.kubernetes.io/name: {{ include "records.name" . }}-mariadb
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
config.bodyLimit as the service will read it: the schema checks its form, this its size, which the
service wants at least 1 byte and a safe integer (a pod given "0" would never start).
*/}}
{{- define "records.bodyLimit" -}}
{{- $limit := .Values.config.bodyLimit }}
{{- /* A plain number of bytes: from a values file it arrives as a float, which toString would print as 1.048576e+07. */}}
{{- if not (kindIs "string" $limit) }}{{ $limit = printf "%.0f" (float64 $limit) }}{{ end }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $limit }}
{{- $unit := lower (regexReplaceAll "\\s" (trimPrefix $number $limit) "") }}
{{- $units := dict "" 1 "b" 1 "kb" 1000 "kib" 1024 "mb" 1000000 "mib" 1048576 "gb" 1000000000 "gib" 1073741824 }}
{{- $bytes := floor (mulf (float64 $number) (get $units $unit)) }}
{{- if or (lt $bytes 1.0) (gt $bytes 9007199254740991.0) }}
{{- fail (printf "config.bodyLimit: %q is %v bytes; the service needs from 1 byte to 2^53-1" $limit $bytes) }}
{{- end }}
{{- $limit }}
{{- end }}
