{{/* The sync policy every application shares. */}}
{{- define "apps.syncPolicy" -}}
automated:
  prune: true
  selfHeal: true
retry:
  limit: 5
  backoff:
    duration: 10s
    factor: 2
    maxDuration: 3m
syncOptions:
  - CreateNamespace=true
  - ServerSideApply=true
  - RespectIgnoreDifferences=true
{{- end }}

{{- define "apps.metadata" -}}
name: {{ .name }}-{{ .root.Values.environment }}
namespace: argocd
labels:
  app.kubernetes.io/part-of: records
  records.example.org/environment: {{ .root.Values.environment }}
annotations:
  # Waves: cluster basics (-4), platform (KEDA -3, Kong -2), data stores (-1), then the app (0).
  argocd.argoproj.io/sync-wave: {{ .wave | quote }}
finalizers:
  - resources-finalizer.argocd.argoproj.io
{{- end }}
