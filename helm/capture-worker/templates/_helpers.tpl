{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "capture-worker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart unless the release name already contains it. */}}
{{- define "capture-worker.fullname" -}}
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

{{- define "capture-worker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The worker pods' identity; the init Job's pods differ by component, so the Service and the
PodDisruptionBudget never select them. */}}
{{- define "capture-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capture-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "capture-worker.commonLabels" -}}
helm.sh/chart: {{ include "capture-worker.chart" . }}
app.kubernetes.io/name: {{ include "capture-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capture-worker
{{- end }}

{{- define "capture-worker.labels" -}}
{{ include "capture-worker.commonLabels" . }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "capture-worker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capture-worker.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capture-worker.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding the keys: existing, chart-made, or expected under <fullname>-keys. */}}
{{- define "capture-worker.keysSecretName" -}}
{{- default (printf "%s-keys" (include "capture-worker.fullname" .)) .Values.keys.existingSecret }}
{{- end }}

{{- define "capture-worker.createKeysSecret" -}}
{{- if and (not .Values.keys.existingSecret) .Values.keys.merchantPrivateKey .Values.keys.antomPublicKey }}true{{ end }}
{{- end }}

{{/*
Every setting as NAME: "value" (YAML). The ConfigMap's data and the init Job's env both come
from here, so they cannot drift apart. Numbers go through int64 so that Helm's float64 values
never render as 3.6e+06.
*/}}
{{- define "capture-worker.settings" -}}
{{- $c := .Values.config -}}
KAFKA_BROKERS: {{ join "," $c.kafka.brokers | quote }}
KAFKA_CLIENT_ID: {{ $c.kafka.clientId | quote }}
SCHEMA_REGISTRY_URL: {{ $c.schemaRegistryUrl | quote }}
ANTOM_BASE_URL: {{ $c.antom.baseUrl | quote }}
ANTOM_CLIENT_ID: {{ $c.antom.clientId | quote }}
ANTOM_KEY_VERSION: {{ $c.antom.keyVersion | toString | quote }}
ANTOM_PRIVATE_KEY_FILE: {{ printf "%s/%s" (trimSuffix "/" .Values.keys.mountPath) .Values.keys.merchantPrivateKeyName | quote }}
ANTOM_PUBLIC_KEY_FILE: {{ printf "%s/%s" (trimSuffix "/" .Values.keys.mountPath) .Values.keys.antomPublicKeyName | quote }}
TOPIC_REQUESTED: {{ $c.topics.requested | quote }}
TOPIC_SUCCEEDED: {{ $c.topics.succeeded | quote }}
TOPIC_FAILED: {{ $c.topics.failed | quote }}
TOPIC_UNKNOWN: {{ $c.topics.unknown | quote }}
TOPIC_RETRY: {{ $c.topics.retry | quote }}
TOPIC_DLQ: {{ $c.topics.dlq | quote }}
TOPIC_PARTITIONS: {{ $c.topics.partitions | int64 | quote }}
TOPIC_REPLICATION_FACTOR: {{ $c.topics.replicationFactor | int64 | quote }}
TOPIC_MIN_INSYNC_REPLICAS: {{ $c.topics.minInsyncReplicas | int64 | quote }}
GROUP_ID: {{ $c.groupId | quote }}
{{- if $c.transactionalIdPrefix }}
TRANSACTIONAL_ID: {{ $c.transactionalIdPrefix | quote }}
{{- end }}
MAX_IN_FLIGHT: {{ $c.maxInFlight | int64 | quote }}
API_TIMEOUT_MS: {{ $c.apiTimeoutMs | int64 | quote }}
API_CONNECTIONS: {{ $c.apiConnections | int64 | quote }}
{{- with $c.apiConcurrency }}
{{- if not (kindIs "invalid" .min) }}
API_CONCURRENCY_MIN: {{ .min | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .initial) }}
API_CONCURRENCY_INITIAL: {{ .initial | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .latencyTolerance) }}
API_LATENCY_TOLERANCE: {{ .latencyTolerance | toString | quote }}
{{- end }}
{{- end }}
{{- with $c.retry }}
{{- if not (kindIs "invalid" .baseDelayMs) }}
RETRY_BASE_DELAY_MS: {{ .baseDelayMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .maxDelayMs) }}
RETRY_MAX_DELAY_MS: {{ .maxDelayMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .maxAttempts) }}
RETRY_MAX_ATTEMPTS: {{ .maxAttempts | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .deadlineMs) }}
RETRY_DEADLINE_MS: {{ .deadlineMs | int64 | quote }}
{{- end }}
{{- if .tiers }}
RETRY_TIERS: {{ .tiers | quote }}
{{- end }}
{{- end }}
{{- with $c.transaction }}
{{- if not (kindIs "invalid" .maxRecords) }}
TRANSACTION_MAX_RECORDS: {{ .maxRecords | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .lingerMs) }}
TRANSACTION_LINGER_MS: {{ .lingerMs | int64 | quote }}
{{- end }}
{{- end }}
SHUTDOWN_GRACE_MS: {{ $c.shutdownGraceMs | int64 | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
HTTP_PORT: {{ $c.httpPort | int64 | quote }}
{{- range $k, $v := $c.extra }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Render-time checks that a JSON schema cannot express. */}}
{{- define "capture-worker.validate" -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "capture-worker: enable either autoscaling (CPU HPA) or keda (ScaledObject; it creates its own HPA), not both" }}
{{- end }}
{{- if le (mul (int64 .Values.terminationGracePeriodSeconds) 1000) (int64 .Values.config.shutdownGraceMs) }}
{{- fail (printf "capture-worker: terminationGracePeriodSeconds (%d s) must exceed config.shutdownGraceMs (%d ms), or Kubernetes kills pods mid-shutdown" (int64 .Values.terminationGracePeriodSeconds) (int64 .Values.config.shutdownGraceMs)) }}
{{- end }}
{{- if and (not .Values.keys.existingSecret) (ne (not .Values.keys.merchantPrivateKey) (not .Values.keys.antomPublicKey)) }}
{{- fail "capture-worker: set both keys.merchantPrivateKey and keys.antomPublicKey (or keys.existingSecret)" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable) (kindIs "invalid" .Values.podDisruptionBudget.minAvailable) }}
{{- fail "capture-worker: podDisruptionBudget needs maxUnavailable or minAvailable" }}
{{- end }}
{{- with .Values.config.apiConcurrency }}
{{- if and (not (kindIs "invalid" .min)) (not (kindIs "invalid" .initial)) (lt (int64 .initial) (int64 .min)) }}
{{- fail "capture-worker: config.apiConcurrency.initial must be at least config.apiConcurrency.min" }}
{{- end }}
{{- end }}
{{- with .Values.config.retry }}
{{- if and (not (kindIs "invalid" .baseDelayMs)) (not (kindIs "invalid" .maxDelayMs)) (lt (int64 .maxDelayMs) (int64 .baseDelayMs)) }}
{{- fail "capture-worker: config.retry.maxDelayMs must be at least config.retry.baseDelayMs" }}
{{- end }}
{{- end }}
{{- if gt (int64 .Values.config.topics.minInsyncReplicas) (int64 .Values.config.topics.replicationFactor) }}
{{- fail "capture-worker: config.topics.minInsyncReplicas cannot exceed config.topics.replicationFactor" }}
{{- end }}
{{- end }}

{{/* Volumes and mounts shared by the Deployment and the init Job. */}}
{{- define "capture-worker.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .root.Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
- name: keys
  secret:
    secretName: {{ include "capture-worker.keysSecretName" .root }}
    defaultMode: 0440
    {{- if .optional }}
    optional: true
    {{- end }}
    items:
      - key: {{ .root.Values.keys.merchantPrivateKeyName }}
        path: {{ .root.Values.keys.merchantPrivateKeyName }}
      - key: {{ .root.Values.keys.antomPublicKeyName }}
        path: {{ .root.Values.keys.antomPublicKeyName }}
{{- end }}

{{- define "capture-worker.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: keys
  mountPath: {{ .Values.keys.mountPath }}
  readOnly: true
{{- end }}
