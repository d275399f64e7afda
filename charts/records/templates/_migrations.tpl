{{/*
The migrations Job's pod template. Takes (dict "root" $ "serviceAccount" NAME "podLabels" MAP).
*/}}
{{- define "records.migrationsPod" -}}
{{- $base := .serviceAccount }}
{{- $podLabels := .podLabels }}
{{- with .root -}}
metadata:
  labels:
    {{- toYaml $podLabels | nindent 4 }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ $base }}
  automountServiceAccountToken: false
  securityContext:
    {{- include "records.podSecurityContext" . | nindent 4 }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  containers:
    - name: migrate
      image: {{ include "records.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: [migrate, --wait, {{ .Values.migrations.waitSeconds | quote }}]
      env:
        {{- include "records.databaseEnv" (dict "root" . "secretName" (default $base .Values.existingSecret)) | nindent 8 }}
        - name: LOG_LEVEL
          value: {{ .Values.config.logLevel | quote }}
      resources:
        requests:
          cpu: 50m
          memory: 96Mi
        limits:
          cpu: 500m
          memory: 256Mi
      securityContext:
        {{- include "records.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
{{- end }}
{{- end }}
