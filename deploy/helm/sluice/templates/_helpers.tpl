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
The secret settings: value name -> the variable it becomes.
*/}}
{{- define "sluice.secretVariables" -}}
databaseUrl: SLUICE_DATABASE_URL
redisUrl: SLUICE_REDIS_URL
upstreamApiKey: SLUICE_UPSTREAM_API_KEY
keyPepper: SLUICE_KEY_PEPPER
stripeSecretKey: SLUICE_STRIPE_SECRET_KEY
stripeWebhookSecret: SLUICE_STRIPE_WEBHOOK_SECRET
moderationApiKey: SLUICE_MODERATION_API_KEY
oidcClientSecret: SLUICE_OIDC_CLIENT_SECRET
{{- end }}

{{/*
More than one gateway process sharing rate limits: Redis is required.
*/}}
{{- define "sluice.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{- end }}
{{- end }}

{{/*
The secret settings the app cannot start without, as a list of value names.
*/}}
{{- define "sluice.requiredSecrets" -}}
{{- $required := list "databaseUrl" "keyPepper" }}
{{- if eq (trimSuffix "/" .Values.sluice.upstreamUrl) "https://openrouter.ai/api/v1" }}
{{- $required = append $required "upstreamApiKey" }}
{{- end }}
{{- if include "sluice.multiReplica" . }}
{{- $required = append $required "redisUrl" }}
{{- end }}
{{- toJson $required }}
{{- end }}

{{/*
The chart-managed Secret: the secret settings given as values.
*/}}
{{- define "sluice.secretName" -}}
{{- include "sluice.fullname" . }}
{{- end }}

{{/*
The Secret the migration hook reads. Hooks run before the release's ordinary resources exist, so
the hook gets its own copy of the chart-managed Secret, created just before the Job and deleted
once it succeeded.
*/}}
{{- define "sluice.migrationSecretName" -}}
{{- printf "%s-migrate" (include "sluice.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Is any secret setting given as a value (so that the chart creates a Secret)?
*/}}
{{- define "sluice.chartSecret" -}}
{{- range $name, $_ := include "sluice.secretVariables" . | fromYaml }}
{{- if and (get $.Values.secrets $name) (not (get $.Values.secrets.secretKeyRefs $name)) }}true{{- end }}
{{- end }}
{{- end }}

{{/*
The data of the chart-managed Secret (shared by secret.yaml and the hook copy).
*/}}
{{- define "sluice.secretData" -}}
{{- $v := .Values.secrets }}
{{- with $v.databaseUrl }}
{{- if hasPrefix "sqlite" . }}
{{- fail "secrets.databaseUrl: SQLite does not work in Kubernetes (read-only root filesystem, several pods, a separate migration Job); use postgresql+asyncpg://..." }}
{{- end }}
{{- end }}
{{- with $v.keyPepper }}
{{- if lt (len .) 16 }}
{{- fail "secrets.keyPepper must be at least 16 characters (openssl rand -hex 32)" }}
{{- end }}
{{- end }}
{{- range $name, $variable := include "sluice.secretVariables" . | fromYaml }}
{{- if and (get $v $name) (not (get $v.secretKeyRefs $name)) }}
{{ $variable }}: {{ get $v $name | toString | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The secret settings' environment entries. Call with (dict "root" $ "secretName" NAME), NAME being
the chart-managed Secret (or its hook copy).
*/}}
{{- define "sluice.secretEnv" -}}
{{- $v := .root.Values.secrets }}
{{- $required := include "sluice.requiredSecrets" .root | fromJsonArray }}
{{- range $name, $variable := include "sluice.secretVariables" .root | fromYaml }}
{{- $ref := get $v.secretKeyRefs $name }}
{{- if $ref }}
{{- if not (and (kindIs "map" $ref) $ref.name $ref.key) }}
{{- fail (printf "secrets.secretKeyRefs.%s needs a name and a key" $name) }}
{{- end }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- else if get $v $name }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $.secretName }}
      key: {{ $variable }}
{{- else if $v.existingSecret }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $variable }}
      {{- if not (has $name $required) }}
      optional: true
      {{- end }}
{{- else if has $name $required }}
{{- fail (printf "secrets.%s (%s) is required%s: set it, secrets.secretKeyRefs.%s, or secrets.existingSecret" $name $variable (ternary " with more than one replica" "" (eq $name "redisUrl")) $name) }}
{{- end }}
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
{{- $needed := add (int .Values.preStopSleepSeconds) (int .Values.sluice.drainSeconds) (int .Values.sluice.gracefulSeconds) 25 }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds must be at least preStopSleepSeconds + sluice.drainSeconds + sluice.gracefulSeconds + 25 (settling cut streams, returning leases, spend counters and the usage flush) = %d" (int $needed)) }}
{{- end }}
{{- if and .Values.metrics.port (eq (int .Values.metrics.port) (int .Values.sluice.port)) }}
{{- fail "metrics.port must differ from sluice.port (leave it empty to serve /metrics on the app port)" }}
{{- end }}
{{- if and .Values.tracing.enabled (eq .Values.tracing.exporter "otlp") (not .Values.tracing.endpoint) }}
{{- fail "tracing.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is required with tracing.exporter otlp" }}
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
{{- with $v.sluice.moderationUrl }}
- name: SLUICE_MODERATION_URL
  value: {{ . | quote }}
{{- end }}
- name: SLUICE_WORKERS
  value: {{ $v.sluice.workers | quote }}
- name: SLUICE_GRACEFUL_SECONDS
  value: {{ $v.sluice.gracefulSeconds | quote }}
- name: SLUICE_DRAIN_SECONDS
  value: {{ $v.sluice.drainSeconds | quote }}
{{- with $v.sluice.forwardedAllowIps }}
- name: SLUICE_FORWARDED_ALLOW_IPS
  value: {{ . | quote }}
{{- end }}
- name: SLUICE_LOG_FORMAT
  value: {{ $v.logs.format | quote }}
- name: SLUICE_LOG_LEVEL
  value: {{ $v.logs.level | quote }}
- name: SLUICE_ACCESS_LOG
  value: {{ ternary "1" "0" $v.logs.requests | quote }}
- name: SLUICE_LOG_CONTENT
  value: {{ ternary "1" "0" $v.logs.content | quote }}
{{- with $v.metrics.port }}
- name: SLUICE_METRICS_PORT
  value: {{ . | quote }}
{{- end }}
- name: SLUICE_METRICS_MAX_MODELS
  value: {{ $v.metrics.maxModels | quote }}
{{- if $v.tracing.enabled }}
- name: OTEL_TRACES_EXPORTER
  value: {{ $v.tracing.exporter | quote }}
{{- with $v.tracing.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ $v.tracing.serviceName | quote }}
- name: SLUICE_OTEL_PROPAGATE_UPSTREAM
  value: {{ ternary "1" "0" $v.tracing.propagateUpstream | quote }}
{{- end }}
{{- with $v.oidc.issuer }}
- name: SLUICE_OIDC_ISSUER
  value: {{ . | quote }}
{{- end }}
{{- with $v.oidc.clientId }}
- name: SLUICE_OIDC_CLIENT_ID
  value: {{ . | quote }}
{{- end }}
{{- with $v.oidc.name }}
- name: SLUICE_OIDC_NAME
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
{{- include "sluice.secretEnv" (dict "root" $root "secretName" .secretName) }}
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
