import { z } from 'zod';
import { TOPIC_CONTRACT, type TopicRole } from '../events/contract';

/**
 * Every environment variable the worker and its CLIs read, with its default, bounds and meaning:
 * the one list that validation (./config), the README's configuration table, the deployment-file
 * consistency test, `toEnv()` and the unknown-variable warnings come from.
 */

interface Spec {
  schema: z.ZodType;
  /** As a user writes it; undefined: required, unset or derived (see `shown`). */
  fallback?: string;
  /** The README's default column when it is not a plain value ("required", "`GROUP_ID`"). */
  shown?: string;
  min?: number;
  max?: number;
  doc: string;
  /** May be given as NAME_FILE, a path whose contents are the value. */
  file?: true;
  /** Read and checked by ./connection (brokers, TLS, SASL, registry credentials) or the tracing setup, not by the zod schema. */
  connection?: true;
  /** Documented with the secured-cluster settings rather than in the main table. */
  security?: true;
}

const number = (min: number, max: number | undefined) =>
  z.coerce
    .number()
    .min(min)
    .max(max ?? Number.MAX_SAFE_INTEGER);
const int = (min: number, fallback: number, doc: string, max?: number) => ({ schema: number(min, max).int().default(fallback), fallback: String(fallback), min, max, doc });
const optionalInt = (min: number, doc: string, shown: string) => ({ schema: number(min, undefined).int().optional(), shown, min, doc });
const ratio = (min: number, max: number, fallback: number, doc: string) => ({ schema: number(min, max).default(fallback), fallback: String(fallback), min, max, doc });
const text = (fallback: string, doc: string) => ({ schema: z.string().min(1).default(fallback), fallback, doc });
const optionalText = (doc: string, shown: string) => ({ schema: z.string().min(1).optional(), shown, doc });
const choice = <T extends readonly [string, ...string[]]>(values: T, fallback: T[number], doc: string) => ({ schema: z.enum(values).default(fallback as never), fallback, doc });
const required = <S extends z.ZodType>(schema: S, doc: string) => ({ schema, shown: 'required', doc });
const connection = (doc: string, shown = 'unset') => ({ schema: z.unknown(), shown, doc, connection: true as const });
const security = (doc: string, shown = 'unset', file?: true) => ({ ...connection(doc, shown), file, security: true as const });

const url = z.url({ protocol: /^https?$/ });

const topic = (role: TopicRole, doc: string) => text(TOPIC_CONTRACT[role].topic, doc);

// The variables and default names are the event contract's (a unit test holds the keys to it).
const TOPIC_SETTINGS = {
  TOPIC_REQUESTED: topic('requested', '`CaptureRequested` events, keyed by captureRequestId'),
  TOPIC_SUCCEEDED: topic('succeeded', '`CaptureSucceeded` outcomes'),
  TOPIC_FAILED: topic('failed', '`CaptureFailed` outcomes'),
  TOPIC_UNKNOWN: topic('unknown', '`CaptureUnknown` outcomes (with `final` and `nextAttemptAt`)'),
  TOPIC_RETRY: topic('retry', 'prefix of the delay topics `<TOPIC_RETRY>.<tier>`'),
  TOPIC_DLQ: topic('dlq', 'records that cannot be processed, bytes intact, with reason headers'),
} satisfies Record<string, Spec>;

export const SETTINGS = {
  KAFKA_BROKERS: connection('`host:port[,host:port]`; TLS, SASL and registry credentials: see [Connecting to a secured cluster](#connecting-to-a-secured-cluster)', 'required'),
  KAFKA_CLIENT_ID: connection('Kafka client id', '`capture-worker`'),
  SCHEMA_REGISTRY_URL: connection('Confluent-compatible registry URL', 'required'),
  ANTOM_BASE_URL: required(url, 'e.g. `https://open-na-global.alipay.com`'),
  ANTOM_CLIENT_ID: required(z.string().min(1), 'merchant client id'),
  ANTOM_PRIVATE_KEY_FILE: optionalText('merchant RSA private key (PKCS#8/PKCS#1 PEM or bare base64), or the key itself in `ANTOM_PRIVATE_KEY`', 'required'),
  ANTOM_PRIVATE_KEY: optionalText('the merchant private key itself, instead of `ANTOM_PRIVATE_KEY_FILE`', 'unset'),
  ANTOM_PUBLIC_KEY_FILE: optionalText("the vendor's public key, to verify responses, or the key itself in `ANTOM_PUBLIC_KEY`", 'required'),
  ANTOM_PUBLIC_KEY: optionalText("the vendor's public key itself, instead of `ANTOM_PUBLIC_KEY_FILE`", 'unset'),
  ANTOM_KEY_VERSION: { schema: z.string().regex(/^\d+$/).default('1'), fallback: '1', doc: '`keyVersion` in the signature header' },
  ANTOM_SANDBOX: choice(['true', 'false'], 'false', '`true` only in front of the capture sandbox (no money moves): allows an `http://` base URL and the sandbox\u2019s answers'),
  GROUP_ID: text('capture-worker', 'consumer group'),
  TRANSACTIONAL_ID: {
    // Kafka's transactional id charset, kept short: each partition's producer is `<prefix>.<topic>.<partition>`.
    schema: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,120}$/, 'letters, digits, ".", "_" and "-" only (at most 120)')
      .optional(),
    shown: '`GROUP_ID`',
    doc: 'prefix of the per-partition transactional ids `<prefix>.<topic>.<partition>`; the same on every instance of the group (never per pod), different for deployments with different groups on the same cluster',
  },
  ...TOPIC_SETTINGS,
  TOPIC_PARTITIONS: int(1, 12, 'partitions of the topics `init` creates'),
  TOPIC_REPLICATION_FACTOR: int(1, 3, 'replication factor of the topics `init` creates'),
  TOPIC_MIN_INSYNC_REPLICAS: int(1, 2, '`min.insync.replicas` of the topics `init` creates'),
  MAX_IN_FLIGHT: int(1, 500, 'records between admission and committed outcome'),
  API_TIMEOUT_MS: int(100, 10_000, 'per call; a timeout is an unknown result, never a failure'),
  // A call queued for a connection would spend its timeout waiting, hence as many as records in flight.
  API_CONNECTIONS: optionalInt(1, 'keep-alive connection pool size', '`MAX_IN_FLIGHT`'),
  API_CONCURRENCY_MIN: int(1, 2, 'the adaptive limit on concurrent API calls never goes below this (capped at `MAX_IN_FLIGHT`, its maximum)'),
  API_CONCURRENCY_INITIAL: int(1, 10, "the adaptive limit's start: a new instance's window, and again after the circuit closes"),
  API_LATENCY_TOLERANCE: ratio(1.1, 10, 2, "the limit shrinks when a round trip's mean latency exceeds this multiple of its baseline"),
  API_HALT_PROBE_MS: int(1_000, 30_000, 'while the vendor refuses the merchant configuration, one call probes it this often'),
  BREAKER_WINDOW: int(1, 50, 'the circuit breaker judges the last this many calls'),
  BREAKER_MIN_CALLS: int(1, 20, 'calls in the window before the breaker may open'),
  BREAKER_FAULT_RATIO: ratio(0.01, 1, 0.5, 'share of faults (timeouts, 5xx, unknown results) in the window that opens the circuit'),
  BREAKER_OPEN_MS: int(100, 1_000, 'first open period; doubles while probes fail'),
  BREAKER_MAX_OPEN_MS: int(100, 30_000, 'longest open period'),
  RETRY_BASE_DELAY_MS: int(1, 1_000, 'exponential backoff of unknown results: first delay'),
  RETRY_MAX_DELAY_MS: int(1, 300_000, 'exponential backoff: longest delay'),
  RETRY_MAX_ATTEMPTS: int(1, 12, 'then `CaptureUnknown` `final: true`'),
  RETRY_DEADLINE_MS: int(1, 24 * 3600_000, 'from the first attempt; then `CaptureUnknown` `final: true`'),
  RETRY_TIERS: text('1s,5s,30s,2m,5m', 'delay topics `<TOPIC_RETRY>.<tier>` (created by `init`), ascending; units `ms`, `s`, `m`, `h`'),
  TRANSACTION_MAX_RECORDS: int(1, 500, 'outcomes per Kafka transaction, at most'),
  TRANSACTION_MAX_BYTES: int(1024, 512 * 1024, 'bytes per Kafka transaction, at most'),
  TRANSACTION_LINGER_MS: int(0, 20, 'how long a transaction waits for more outcomes'),
  MAX_RECORD_BYTES: int(1024, 256 * 1024, 'larger request values go to the DLQ (`RECORD_TOO_LARGE`)'),
  KAFKA_SESSION_TIMEOUT_MS: int(6_000, 10_000, "consumer group session: a stalled instance's partitions move after this; a partition fenced by its new owner reopens after it too"),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(100, 1_000, 'consumer heartbeats, well below the session timeout'),
  KAFKA_FETCH_MAX_WAIT_MS: int(0, 50, 'how long a fetch waits for records: the added latency of a quiet topic'),
  KAFKA_PARTITIONS_CONCURRENCY: int(1, 16, 'partitions whose fetched batches are handed over at once (records of each still run concurrently up to `MAX_IN_FLIGHT`)'),
  KAFKA_START_TIMEOUT_MS: int(
    1_000,
    300_000,
    "how long a starting worker waits for an unreachable broker (restart, rolling upgrade) before it exits 1 with the connection error; Kubernetes' startup probe may end it sooner",
  ),
  SHUTDOWN_GRACE_MS: int(0, 30_000, 'time in-flight calls get on SIGTERM'),
  LIVENESS_POLL_MS: int(
    5_000,
    60_000,
    '`/healthz` answers 503 (Kubernetes restarts the pod) until the first group join, and when the joined consumer has neither fetched nor heartbeated for this long',
  ),
  LIVENESS_PROGRESS_MS: int(
    10_000,
    300_000,
    '`/healthz` answers 503 when records in flight settled none for this long while the API circuit is closed (an open or halted circuit holds records on purpose; a restart would not help)',
  ),
  LOG_LEVEL: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino level; lines are JSON with `level` as a word, `service`, `version`'),
  LOG_SUCCESS_SAMPLE: ratio(0, 1, 1, 'share of successful outcomes that get their info line; failures, unknowns and DLQ records are always logged'),
  HTTP_PORT: int(0, 9464, '`/healthz`, `/readyz` (503 until joined, while the consumer rejoins, and while calls are halted), `/metrics`', 65_535),
  OTEL_EXPORTER_OTLP_ENDPOINT: connection(
    'OTLP/HTTP collector for traces (`/v1/traces` is appended); unset: tracing off. The SDK reads the other standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`) itself',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: connection('the traces endpoint itself, instead of the above'),
  OTEL_SERVICE_NAME: connection('service name on the spans', '`capture-worker`'),
  KAFKA_SECURITY_PROTOCOL: security('`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL`; default `SASL_SSL` when a mechanism is set, `SSL` when a TLS file is, else `PLAINTEXT`', 'derived'),
  KAFKA_TLS_CA: security('PEM bundle that signed the brokers\u2019 certificates (default: the public CAs)', 'unset', true),
  KAFKA_TLS_CERT: security('client certificate (mutual TLS); the pair and the dates are checked at start', 'unset', true),
  KAFKA_TLS_KEY: security('client key (mutual TLS)', 'unset', true),
  KAFKA_TLS_KEY_PASSWORD: security('passphrase of the client key', 'unset', true),
  KAFKA_TLS_SERVERNAME: security('name to verify instead of the broker host'),
  KAFKA_TLS_VERIFY_HOSTNAME: security('`false` skips the name check (the chain is still verified)', 'true'),
  KAFKA_SASL_MECHANISM: security('`plain`, `scram-sha-256`, `scram-sha-512`, `oauthbearer`'),
  KAFKA_SASL_USERNAME: security('for PLAIN and SCRAM', 'unset', true),
  KAFKA_SASL_PASSWORD: security('for PLAIN and SCRAM', 'unset', true),
  KAFKA_SASL_OAUTHBEARER_TOKEN: security(
    'a fixed OAUTHBEARER token; `KAFKA_SASL_OAUTHBEARER_TOKEN_FILE` is read again before each expiry (a sidecar or projected token rotating the file)',
    'unset',
    true,
  ),
  KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND: security("a command that prints a token (`sh -c`), run again at 80% of the token's `exp`"),
  KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB: security("an unsigned JWT's subject, for Kafka's `OAuthBearerUnsecuredJws` validator (development and tests)"),
  KAFKA_SASL_OAUTHBEARER_UNSECURED_LIFETIME_MS: security('lifetime of those unsigned tokens', '3600000'),
  SCHEMA_REGISTRY_USER_INFO: security('Confluent style `key:secret` basic auth', 'unset', true),
  SCHEMA_REGISTRY_USERNAME: security('basic auth as two values', 'unset', true),
  SCHEMA_REGISTRY_PASSWORD: security('basic auth as two values', 'unset', true),
  SCHEMA_REGISTRY_BEARER_TOKEN: security('`Authorization: Bearer`', 'unset', true),
  SCHEMA_REGISTRY_CA: security('PEM bundle for an `https://` registry', 'unset', true),
} satisfies Record<string, Spec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export const settingSpec = (name: SettingName): Spec => SETTINGS[name];

type WorkerSettingName = { [K in SettingName]: (typeof SETTINGS)[K] extends { connection: true } ? never : K }[SettingName];

/** The worker's own settings (the connection ones are read by ./connection), as a zod object over the environment. */
export const workerSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).flatMap(([name, spec]) => ('connection' in spec ? [] : [[name, spec.schema]]))) as { [K in WorkerSettingName]: (typeof SETTINGS)[K]['schema'] },
);
export type WorkerEnv = z.infer<typeof workerSchema>;
