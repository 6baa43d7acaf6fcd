{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. If the release name already contains the chart name
it is used as is.
*/}}
{{- define "sluice.fullname" -}}
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

{{- define "sluice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The gateway pods. The component label keeps the migration Job's pod out of the
Service endpoints and the Deployment's selector.
*/}}
{{- define "sluice.podSelectorLabels" -}}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ include "sluice.chart" . }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end }}

{{- define "sluice.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
The Secret holding SLUICE_DATABASE_URL, SLUICE_UPSTREAM_API_KEY and SLUICE_KEY_PEPPER.
*/}}
{{- define "sluice.secretName" -}}
{{- default (include "sluice.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The Secret the migration hook reads. Hooks run before the release's ordinary
resources exist, so when the chart manages the Secret the hook gets its own
copy, created just before the Job and deleted once it succeeded.
*/}}
{{- define "sluice.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "sluice.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The data of the chart-managed Secret (shared by secret.yaml and the hook copy).
*/}}
{{- define "sluice.secretData" -}}
{{- $db := required "secrets.databaseUrl is required (or set secrets.existingSecret)" .Values.secrets.databaseUrl }}
{{- if hasPrefix "sqlite" $db }}
{{- fail "secrets.databaseUrl: SQLite does not work in Kubernetes (read-only root filesystem, several pods, a separate migration Job); use postgresql+asyncpg://..." }}
{{- end }}
{{- $pepper := required "secrets.keyPepper is required (or set secrets.existingSecret)" .Values.secrets.keyPepper }}
{{- if lt (len $pepper) 16 }}
{{- fail "secrets.keyPepper must be at least 16 characters (openssl rand -hex 32)" }}
{{- end }}
{{- if and (not .Values.secrets.upstreamApiKey) (eq (trimSuffix "/" .Values.sluice.upstreamUrl) "https://openrouter.ai/api/v1") }}
{{- fail "secrets.upstreamApiKey is required to reach OpenRouter (or set secrets.existingSecret)" }}
{{- end }}
SLUICE_DATABASE_URL: {{ $db | b64enc | quote }}
SLUICE_KEY_PEPPER: {{ $pepper | b64enc | quote }}
{{- with .Values.secrets.upstreamApiKey }}
SLUICE_UPSTREAM_API_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
Is a config file mounted (SLUICE_CONFIG set)?
*/}}
{{- define "sluice.configEnabled" -}}
{{- if or .Values.config.existingConfigMap .Values.config.toml }}true{{- end }}
{{- end }}

{{- define "sluice.configMapName" -}}
{{- default (printf "%s-config" (include "sluice.fullname" .)) .Values.config.existingConfigMap }}
{{- end }}

{{- define "sluice.migrationConfigMapName" -}}
{{- if .Values.config.existingConfigMap }}
{{- .Values.config.existingConfigMap }}
{{- else }}
{{- printf "%s-migrate-config" (include "sluice.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Fail early on settings that cannot work.
*/}}
{{- define "sluice.validate" -}}
{{- $multi := or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}
{{- if and $multi (not (or .Values.redis.url .Values.redis.existingSecret)) }}
{{- fail "more than one replica (replicaCount > 1 or autoscaling.enabled) needs Redis for shared rate limits: set redis.url or redis.existingSecret" }}
{{- end }}
{{- if and .Values.redis.url .Values.redis.existingSecret }}
{{- fail "set only one of redis.url and redis.existingSecret" }}
{{- end }}
{{- $needed := add (int .Values.preStopSleepSeconds) (int .Values.sluice.gracefulSeconds) 25 }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds must be at least preStopSleepSeconds + sluice.gracefulSeconds + 25 (settling cut streams, returning leases, spend counters and the usage flush) = %d" (int $needed)) }}
{{- end }}
{{- end }}

{{/*
Environment shared by the app container and the migration Job.
Call with (dict "root" $ "secretName" NAME "app" BOOL).
*/}}
{{- define "sluice.env" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
- name: SLUICE_HOST
  value: "0.0.0.0"
- name: SLUICE_PORT
  value: {{ $v.sluice.port | quote }}
- name: SLUICE_UPSTREAM_URL
  value: {{ $v.sluice.upstreamUrl | quote }}
- name: SLUICE_WORKERS
  value: {{ $v.sluice.workers | quote }}
- name: SLUICE_LOG_LEVEL
  value: {{ $v.sluice.logLevel | quote }}
- name: SLUICE_GRACEFUL_SECONDS
  value: {{ $v.sluice.gracefulSeconds | quote }}
{{- with $v.sluice.forwardedAllowIps }}
- name: SLUICE_FORWARDED_ALLOW_IPS
  value: {{ . | quote }}
{{- end }}
{{- if and .app $v.migration.enabled }}
# The migration hook Job has brought the schema to head already.
- name: SLUICE_AUTO_MIGRATE
  value: "0"
{{- end }}
{{- if include "sluice.configEnabled" $root }}
- name: SLUICE_CONFIG
  value: {{ printf "%s/%s" (trimSuffix "/" $v.config.mountPath) $v.config.key | quote }}
{{- end }}
- name: SLUICE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: SLUICE_DATABASE_URL
- name: SLUICE_UPSTREAM_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: SLUICE_UPSTREAM_API_KEY
      # Absent for an upstream that needs no key.
      optional: true
- name: SLUICE_KEY_PEPPER
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: SLUICE_KEY_PEPPER
{{- if $v.redis.url }}
- name: SLUICE_REDIS_URL
  value: {{ $v.redis.url | quote }}
{{- else if $v.redis.existingSecret }}
- name: SLUICE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.redis.existingSecret }}
      key: {{ $v.redis.existingSecretKey }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volumes and mounts shared by the app container and the migration Job.
Call with (dict "root" $ "configMapName" NAME).
*/}}
{{- define "sluice.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .root.Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if include "sluice.configEnabled" .root }}
- name: config
  configMap:
    name: {{ .configMapName }}
    items:
      - key: {{ .root.Values.config.key }}
        path: {{ .root.Values.config.key }}
{{- end }}
{{- end }}

{{- define "sluice.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "sluice.configEnabled" . }}
- name: config
  mountPath: {{ .Values.config.mountPath }}
  readOnly: true
{{- end }}
{{- end }}
