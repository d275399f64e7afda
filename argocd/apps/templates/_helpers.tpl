{{/* The sync policy every application shares. */}}
{{- define "apps.syncPolicy" -}}
automated:
  prune: true
  selfHeal: true
retry:
  # Without end: Argo CD never tries a failed sync of the same commit again by itself, and
  # production stays on its tag, so a prerequisite arriving late (a CRD) would stall it for good.
  limit: -1
  # Each retry syncs the latest commit, not the one that failed: endless retries of a broken
  # commit would otherwise never reach its fix.
  refresh: true
  backoff:
    duration: 10s
    factor: 2
    maxDuration: 3m
syncOptions:
  - ServerSideApply=true
  - RespectIgnoreDifferences=true
{{- end }}

{{/*
Waves: cluster basics (-5), CRDs (-4), operators and the gateway (-3), data stores (-2), the
database (-1), the service (0). Takes (dict "root" $ "name" NAME "wave" WAVE).
*/}}
{{- define "apps.metadata" -}}
name: {{ .name }}-{{ .root.Values.environment }}
namespace: argocd
labels:
  app.kubernetes.io/part-of: records
  records.example.org/environment: {{ .root.Values.environment }}
annotations:
  argocd.argoproj.io/sync-wave: {{ .wave | quote }}
finalizers:
  - resources-finalizer.argocd.argoproj.io/foreground
{{- end }}

{{/* An Application of a pinned upstream chart. Takes (dict "root" $ "key" CHARTKEY "name" NAME "wave" W "namespace" NS "project" P "valueFiles" LIST "ignoreDifferences" LIST). */}}
{{- define "apps.upstreamChart" -}}
{{- $chart := index .root.Values.charts .key }}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  {{- include "apps.metadata" . | nindent 2 }}
spec:
  project: {{ .project }}
  {{- with $chart.mirror }}
  # No chart repository reachable: what the chart renders at {{ $chart.version }}, from a mirror in Git.
  source:
    repoURL: {{ required (printf "charts.%s.mirror.repoURL" $.key) .repoURL }}
    {{- /* Pinned like the chart it replaces: a default of HEAD would sync whatever was pushed last. */}}
    targetRevision: {{ required (printf "charts.%s.mirror.targetRevision (a tag or commit of the mirror; HEAD would sync whatever was pushed last)" $.key) .targetRevision }}
    path: {{ required (printf "charts.%s.mirror.path" $.key) .path }}
  {{- else }}
  sources:
    - repoURL: {{ $chart.repoURL }}
      chart: {{ $chart.chart }}
      targetRevision: {{ $chart.version | quote }}
      helm:
        releaseName: {{ .name }}
        {{- with .valueFiles }}
        valueFiles:
          {{- toYaml . | nindent 10 }}
        {{- end }}
    - repoURL: {{ .root.Values.repoURL }}
      targetRevision: {{ .root.Values.targetRevision }}
      ref: values
  {{- end }}
  destination:
    server: {{ .root.Values.destinationServer }}
    namespace: {{ .namespace }}
  {{- with .ignoreDifferences }}
  ignoreDifferences:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  syncPolicy:
    {{- include "apps.syncPolicy" .root | nindent 4 }}
{{- end }}
