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
{{- include "capture-worker.connectionSettings" . }}
ANTOM_BASE_URL: {{ $c.antom.baseUrl | quote }}
ANTOM_CLIENT_ID: {{ $c.antom.clientId | quote }}
ANTOM_KEY_VERSION: {{ $c.antom.keyVersion | toString | quote }}
ANTOM_SANDBOX: {{ $c.antom.sandbox | default false | toString | quote }}
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
{{- if not (kindIs "invalid" $c.apiConnections) }}
API_CONNECTIONS: {{ $c.apiConnections | int64 | quote }}
{{- end }}
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
{{- with $c.kafka.consumer }}
{{- if not (kindIs "invalid" .sessionTimeoutMs) }}
KAFKA_SESSION_TIMEOUT_MS: {{ .sessionTimeoutMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .heartbeatIntervalMs) }}
KAFKA_HEARTBEAT_INTERVAL_MS: {{ .heartbeatIntervalMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .fetchMaxWaitMs) }}
KAFKA_FETCH_MAX_WAIT_MS: {{ .fetchMaxWaitMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .partitionsConcurrency) }}
KAFKA_PARTITIONS_CONCURRENCY: {{ .partitionsConcurrency | int64 | quote }}
{{- end }}
{{- end }}
{{- with $c.breaker }}
{{- if not (kindIs "invalid" .window) }}
BREAKER_WINDOW: {{ .window | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .minCalls) }}
BREAKER_MIN_CALLS: {{ .minCalls | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .faultRatio) }}
BREAKER_FAULT_RATIO: {{ .faultRatio | toString | quote }}
{{- end }}
{{- if not (kindIs "invalid" .openMs) }}
BREAKER_OPEN_MS: {{ .openMs | int64 | quote }}
{{- end }}
{{- if not (kindIs "invalid" .maxOpenMs) }}
BREAKER_MAX_OPEN_MS: {{ .maxOpenMs | int64 | quote }}
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

{{/* TLS, SASL and registry settings: files under /etc/capture-worker/<secret role>/ (see capture-worker.volumes). */}}
{{- define "capture-worker.connectionSettings" -}}
{{- $k := .Values.config.kafka -}}
{{- $r := .Values.config.schemaRegistryAuth }}
KAFKA_SECURITY_PROTOCOL: {{ $k.securityProtocol | quote }}
{{- if $k.tls.existingSecret }}
KAFKA_TLS_CA_FILE: {{ printf "/etc/capture-worker/kafka-tls/%s" $k.tls.caKey | quote }}
{{- if $k.tls.certKey }}
KAFKA_TLS_CERT_FILE: {{ printf "/etc/capture-worker/kafka-tls/%s" $k.tls.certKey | quote }}
KAFKA_TLS_KEY_FILE: {{ printf "/etc/capture-worker/kafka-tls/%s" $k.tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- with $k.tls.serverName }}
KAFKA_TLS_SERVERNAME: {{ . | quote }}
{{- end }}
KAFKA_TLS_VERIFY_HOSTNAME: {{ $k.tls.verifyHostname | toString | quote }}
{{- if $k.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ $k.sasl.mechanism | quote }}
{{- if eq $k.sasl.mechanism "oauthbearer" }}
KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: {{ printf "/etc/capture-worker/kafka-sasl/%s" $k.sasl.tokenKey | quote }}
{{- else }}
KAFKA_SASL_USERNAME_FILE: {{ printf "/etc/capture-worker/kafka-sasl/%s" $k.sasl.usernameKey | quote }}
KAFKA_SASL_PASSWORD_FILE: {{ printf "/etc/capture-worker/kafka-sasl/%s" $k.sasl.passwordKey | quote }}
{{- end }}
{{- end }}
{{- if $r.userInfoKey }}
SCHEMA_REGISTRY_USER_INFO_FILE: {{ printf "/etc/capture-worker/registry/%s" $r.userInfoKey | quote }}
{{- else if $r.bearerTokenKey }}
SCHEMA_REGISTRY_BEARER_TOKEN_FILE: {{ printf "/etc/capture-worker/registry/%s" $r.bearerTokenKey | quote }}
{{- end }}
{{- if $r.caSecret }}
SCHEMA_REGISTRY_CA_FILE: {{ printf "/etc/capture-worker/registry-ca/%s" $r.caKey | quote }}
{{- end }}
{{- end }}

{{/* Secret-backed volumes for Kafka and registry credentials: name, Secret. */}}
{{- define "capture-worker.connectionSecrets" -}}
{{- $k := .Values.config.kafka -}}
{{- $r := .Values.config.schemaRegistryAuth -}}
{{- $list := list -}}
{{- if $k.tls.existingSecret }}{{ $list = append $list (list "kafka-tls" $k.tls.existingSecret) }}{{ end -}}
{{- if and $k.sasl.mechanism $k.sasl.existingSecret }}{{ $list = append $list (list "kafka-sasl" $k.sasl.existingSecret) }}{{ end -}}
{{- if $r.existingSecret }}{{ $list = append $list (list "registry" $r.existingSecret) }}{{ end -}}
{{- if $r.caSecret }}{{ $list = append $list (list "registry-ca" $r.caSecret) }}{{ end -}}
{{- toJson $list -}}
{{- end }}

{{/* The chart's TriggerAuthentication name, when it renders one (no keda.authenticationRef; OAUTHBEARER needs your own). */}}
{{- define "capture-worker.kedaAuthentication" -}}
{{- $k := .Values.config.kafka -}}
{{- if and .Values.keda.enabled (not .Values.keda.authenticationRef) (or $k.tls.existingSecret (and $k.sasl.mechanism (ne $k.sasl.mechanism "oauthbearer"))) -}}
{{ include "capture-worker.fullname" . }}
{{- end -}}
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
{{- $k := .Values.config.kafka }}
{{- if and (hasPrefix "SASL_" $k.securityProtocol) (not $k.sasl.mechanism) }}
{{- fail (printf "capture-worker: config.kafka.securityProtocol %s needs config.kafka.sasl.mechanism" $k.securityProtocol) }}
{{- end }}
{{- if and $k.sasl.mechanism (not (hasPrefix "SASL_" $k.securityProtocol)) }}
{{- fail "capture-worker: config.kafka.sasl.mechanism needs config.kafka.securityProtocol SASL_SSL (or SASL_PLAINTEXT)" }}
{{- end }}
{{- if and $k.sasl.mechanism (not $k.sasl.existingSecret) }}
{{- fail "capture-worker: config.kafka.sasl.existingSecret must name the Secret with the SASL credentials" }}
{{- end }}
{{- if ne (not $k.tls.certKey) (not $k.tls.keyKey) }}
{{- fail "capture-worker: set both config.kafka.tls.certKey and config.kafka.tls.keyKey (mutual TLS), or neither" }}
{{- end }}
{{- if and (or $k.tls.existingSecret $k.tls.certKey) (not (has $k.securityProtocol (list "SSL" "SASL_SSL"))) }}
{{- fail "capture-worker: config.kafka.tls needs config.kafka.securityProtocol SSL or SASL_SSL" }}
{{- end }}
{{- if and (or .Values.config.schemaRegistryAuth.userInfoKey .Values.config.schemaRegistryAuth.bearerTokenKey) (not .Values.config.schemaRegistryAuth.existingSecret) }}
{{- fail "capture-worker: config.schemaRegistryAuth.existingSecret must name the Secret with the registry credentials" }}
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
{{- range (include "capture-worker.connectionSecrets" .root | fromJsonArray) }}
- name: {{ index . 0 }}
  secret:
    secretName: {{ index . 1 }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "capture-worker.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: keys
  mountPath: {{ .Values.keys.mountPath }}
  readOnly: true
{{- range (include "capture-worker.connectionSecrets" . | fromJsonArray) }}
- name: {{ index . 0 }}
  mountPath: /etc/capture-worker/{{ index . 0 }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
One KEDA kafka trigger for the worker's group on one topic: the request topic, or the shortest
retry tier. Connection security follows config.kafka.
*/}}
{{- define "capture-worker.kafkaTrigger" -}}
{{- $v := .root.Values -}}
- type: kafka
  metadata:
    bootstrapServers: {{ join "," $v.config.kafka.brokers | quote }}
    consumerGroup: {{ $v.config.groupId | quote }}
    topic: {{ .topic | quote }}
    lagThreshold: {{ .lagThreshold | int64 | quote }}
    activationLagThreshold: {{ $v.keda.activationLagThreshold | int64 | quote }}
    offsetResetPolicy: {{ $v.keda.offsetResetPolicy | quote }}
    allowIdleConsumers: {{ $v.keda.allowIdleConsumers | toString | quote }}
    {{- $k := $v.config.kafka }}
    {{- if has $k.securityProtocol (list "SSL" "SASL_SSL") }}
    tls: enable
    {{- end }}
    {{- if $k.sasl.mechanism }}
    sasl: {{ get (dict "plain" "plaintext" "scram-sha-256" "scram_sha256" "scram-sha-512" "scram_sha512" "oauthbearer" "oauthbearer") $k.sasl.mechanism | quote }}
    {{- end }}
  {{- $auth := default (include "capture-worker.kedaAuthentication" .root) $v.keda.authenticationRef }}
  {{- with $auth }}
  authenticationRef:
    name: {{ . }}
  {{- end }}
{{- end }}
