import { z } from 'zod';
import type { KeySource } from '../api/keys';
import { parseTiers, type RetryTier } from '../retry/tiers';
import { TOPIC_CONTRACT, TOPIC_ROLES, topicNamesFrom, type TopicNames, type TopicVariable } from '../events/contract';
import { ConfigError, EnvSettings, KafkaConnection, ReadOptions, readKafkaConnection, readRegistryConnection, RegistryConnection } from './connection';

export { ConfigError };

// Topic names: every one is configurable, variables and defaults are the event contract's.
export type { TopicNames, TopicRole } from '../events/contract';

/** One delay topic per tier, `<TOPIC_RETRY>.<label>`; see src/retry/tiers.ts. */
export const DEFAULT_RETRY_TIERS = '1s,5s,30s,2m,5m';

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
const url = z.url({ protocol: /^https?$/ });

// Kafka and registry connection settings (KAFKA_*, SCHEMA_REGISTRY_*) are read by ./connection.
const schema = z.object({
  ANTOM_BASE_URL: url,
  // The capture sandbox answers as the vendor and moves no money: only allowed when said so.
  ANTOM_SANDBOX: z.enum(['true', 'false']).default('false'),
  ANTOM_CLIENT_ID: z.string().min(1),
  ANTOM_KEY_VERSION: z.string().regex(/^\d+$/).default('1'),
  ANTOM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  ANTOM_PRIVATE_KEY: z.string().min(1).optional(),
  ANTOM_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  ANTOM_PUBLIC_KEY: z.string().min(1).optional(),
  GROUP_ID: z.string().min(1).default('capture-worker'),
  // Each partition's producer is `<prefix>.<topic>.<partition>`: Kafka's transactional id charset, kept short.
  TRANSACTIONAL_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,120}$/, 'letters, digits, ".", "_" and "-" only (at most 120)')
    .optional(),
  MAX_IN_FLIGHT: int(1, 500),
  API_TIMEOUT_MS: int(100, 10_000),
  // Defaults to MAX_IN_FLIGHT: a call queued for a connection would spend its timeout waiting.
  API_CONNECTIONS: z.coerce.number().int().min(1).optional(),
  // The adaptive limit on concurrent calls starts at INITIAL, never goes below MIN, never above MAX_IN_FLIGHT.
  API_CONCURRENCY_MIN: int(1, 2),
  API_CONCURRENCY_INITIAL: int(1, 10),
  API_LATENCY_TOLERANCE: z.coerce.number().min(1.1).max(10).default(2),
  // While the vendor refuses the merchant configuration, one call probes it this often.
  API_HALT_PROBE_MS: int(1_000, 30_000),
  RETRY_BASE_DELAY_MS: int(1, 1_000),
  RETRY_MAX_DELAY_MS: int(1, 300_000),
  RETRY_MAX_ATTEMPTS: int(1, 12),
  RETRY_DEADLINE_MS: int(1, 24 * 3600_000),
  RETRY_TIERS: z.string().min(1).default(DEFAULT_RETRY_TIERS),
  TRANSACTION_MAX_RECORDS: int(1, 500),
  TRANSACTION_LINGER_MS: int(0, 20),
  TRANSACTION_MAX_BYTES: int(1024, 512 * 1024),
  MAX_RECORD_BYTES: int(1024, 256 * 1024),
  SHUTDOWN_GRACE_MS: int(0, 30_000),
  // How long a starting worker waits for an unreachable broker (a restart, a rolling upgrade) before it exits.
  KAFKA_START_TIMEOUT_MS: int(1_000, 300_000),
  // /healthz fails (so Kubernetes restarts the pod) when the consumer stops polling, or records stop settling while the API is callable.
  LIVENESS_POLL_MS: int(5_000, 60_000),
  LIVENESS_PROGRESS_MS: int(10_000, 300_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The share of successful outcomes that get an info line (failures, unknowns and DLQ records always do).
  LOG_SUCCESS_SAMPLE: z.coerce.number().min(0).max(1).default(1),
  HTTP_PORT: int(0, 9464),
  TOPIC_PARTITIONS: int(1, 12),
  TOPIC_REPLICATION_FACTOR: int(1, 3),
  TOPIC_MIN_INSYNC_REPLICAS: int(1, 2),
  ...(Object.fromEntries(TOPIC_ROLES.map((role) => [TOPIC_CONTRACT[role].variable, z.string().min(1).default(TOPIC_CONTRACT[role].topic)])) as Record<TopicVariable, z.ZodDefault<z.ZodString>>),
});

type Env = z.infer<typeof schema>;

export interface WorkerConfig {
  kafka: KafkaConnection & {
    groupId: string;
    /** The same for every instance of a group, so a partition's new owner fences its previous one. */
    transactionalIdPrefix: string;
  };
  schemaRegistry: RegistryConnection;
  topics: TopicNames;
  topicLayout: { partitions: number; replicationFactor: number; minInsyncReplicas: number };
  api: { baseUrl: string; clientId: string; keyVersion: string; privateKey: KeySource; vendorPublicKey: KeySource; timeoutMs: number; connections: number; haltProbeMs: number; sandbox: boolean };
  maxInFlight: number;
  /** The adaptive limit on concurrent API calls; its maximum is maxInFlight. */
  concurrency: { min: number; initial: number; latencyTolerance: number };
  retry: { baseDelayMs: number; maxDelayMs: number; maxAttempts: number; deadlineMs: number; tiers: RetryTier[] };
  transaction: { maxRecords: number; lingerMs: number; maxBytes: number };
  /** Larger request values go to the DLQ: their outcomes might not fit the broker's message limit. */
  maxRecordBytes: number;
  shutdownGraceMs: number;
  kafkaStartTimeoutMs: number;
  liveness: { pollMs: number; progressMs: number };
  /** OpenTelemetry traces (the standard OTEL_* variables); undefined: off. */
  tracing: TracingSettings | undefined;
  logLevel: Env['LOG_LEVEL'];
  logSuccessShare: number;
  httpPort: number;
}

export interface TracingSettings {
  /** OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
  endpoint: string;
  serviceName: string;
}

/**
 * On when an OTLP endpoint is configured with the standard variables and tracing is not switched
 * off; the exporter reads the rest of its OTEL_EXPORTER_OTLP_* settings (headers, timeout) itself.
 */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  return endpoint ? { endpoint, serviceName: env.OTEL_SERVICE_NAME || 'capture-worker' } : undefined;
}

/** A topic used for two roles would loop records (a retry topic read as requests) or mix outcomes. */
function topicClashes(value: Env, tiers: RetryTier[]): string[] {
  const users = new Map<string, string[]>();
  const use = (topic: string, variable: string) => users.set(topic, [...(users.get(topic) ?? []), variable]);
  for (const role of TOPIC_ROLES) use(value[TOPIC_CONTRACT[role].variable], TOPIC_CONTRACT[role].variable);
  for (const tier of tiers) use(tier.topic, `RETRY_TIERS (${tier.label})`);
  return [...users].filter(([, variables]) => variables.length > 1).map(([topic, variables]) => `${variables.join(', ')}: all name topic ${topic}; every role needs a topic of its own`);
}

/**
 * Validates the environment at start; the error lists every problem at once, by variable name.
 * Secret and certificate files (*_FILE) are read here, unless `options.readFiles` is false.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: ReadOptions = {}): WorkerConfig {
  const settings = new EnvSettings(env, options);
  const connection = readKafkaConnection(settings, 'capture-worker');
  const schemaRegistry = readRegistryConnection(settings);
  const parsed = schema.safeParse(env);
  const problems = [...settings.problems, ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${describe(issue, env)}`))];
  const value = parsed.success ? parsed.data : undefined;
  for (const [file, inline] of [
    ['ANTOM_PRIVATE_KEY_FILE', 'ANTOM_PRIVATE_KEY'],
    ['ANTOM_PUBLIC_KEY_FILE', 'ANTOM_PUBLIC_KEY'],
  ] as const) {
    if (!env[file] && !env[inline]) problems.push(`${file}: required (or set ${inline} to the key itself)`);
  }
  if (value && value.RETRY_MAX_DELAY_MS < value.RETRY_BASE_DELAY_MS) problems.push('RETRY_MAX_DELAY_MS: must be at least RETRY_BASE_DELAY_MS');
  if (value && value.API_CONCURRENCY_INITIAL < value.API_CONCURRENCY_MIN) problems.push('API_CONCURRENCY_INITIAL: must be at least API_CONCURRENCY_MIN');
  let tiers: RetryTier[] = [];
  if (value) {
    try {
      tiers = parseTiers(value.RETRY_TIERS, value.TOPIC_RETRY);
    } catch (error) {
      problems.push(`RETRY_TIERS: ${(error as Error).message}`);
    }
    if (value.ANTOM_SANDBOX !== 'true' && value.ANTOM_BASE_URL.startsWith('http://')) {
      problems.push('ANTOM_BASE_URL: the vendor API is https; http:// is only for the capture sandbox, with ANTOM_SANDBOX=true');
    }
    problems.push(...topicClashes(value, tiers));
  }
  if (problems.length > 0 || !value) throw new ConfigError(problems);

  return {
    kafka: { ...connection, groupId: value.GROUP_ID, transactionalIdPrefix: value.TRANSACTIONAL_ID ?? value.GROUP_ID },
    schemaRegistry,
    topics: topicNamesFrom(value),
    topicLayout: { partitions: value.TOPIC_PARTITIONS, replicationFactor: value.TOPIC_REPLICATION_FACTOR, minInsyncReplicas: value.TOPIC_MIN_INSYNC_REPLICAS },
    api: {
      baseUrl: value.ANTOM_BASE_URL,
      clientId: value.ANTOM_CLIENT_ID,
      keyVersion: value.ANTOM_KEY_VERSION,
      privateKey: keySource('ANTOM_PRIVATE_KEY', value.ANTOM_PRIVATE_KEY_FILE, value.ANTOM_PRIVATE_KEY),
      vendorPublicKey: keySource('ANTOM_PUBLIC_KEY', value.ANTOM_PUBLIC_KEY_FILE, value.ANTOM_PUBLIC_KEY),
      timeoutMs: value.API_TIMEOUT_MS,
      connections: value.API_CONNECTIONS ?? value.MAX_IN_FLIGHT,
      haltProbeMs: value.API_HALT_PROBE_MS,
      sandbox: value.ANTOM_SANDBOX === 'true',
    },
    maxInFlight: value.MAX_IN_FLIGHT,
    concurrency: {
      min: Math.min(value.API_CONCURRENCY_MIN, value.MAX_IN_FLIGHT),
      initial: Math.min(value.API_CONCURRENCY_INITIAL, value.MAX_IN_FLIGHT),
      latencyTolerance: value.API_LATENCY_TOLERANCE,
    },
    retry: {
      baseDelayMs: value.RETRY_BASE_DELAY_MS,
      maxDelayMs: value.RETRY_MAX_DELAY_MS,
      maxAttempts: value.RETRY_MAX_ATTEMPTS,
      deadlineMs: value.RETRY_DEADLINE_MS,
      tiers,
    },
    transaction: { maxRecords: value.TRANSACTION_MAX_RECORDS, lingerMs: value.TRANSACTION_LINGER_MS, maxBytes: value.TRANSACTION_MAX_BYTES },
    maxRecordBytes: value.MAX_RECORD_BYTES,
    shutdownGraceMs: value.SHUTDOWN_GRACE_MS,
    kafkaStartTimeoutMs: value.KAFKA_START_TIMEOUT_MS,
    liveness: { pollMs: value.LIVENESS_POLL_MS, progressMs: value.LIVENESS_PROGRESS_MS },
    tracing: tracingSettings(env),
    logLevel: value.LOG_LEVEL,
    logSuccessShare: value.LOG_SUCCESS_SAMPLE,
    httpPort: value.HTTP_PORT,
  };
}

/** The retry tier topics, for the CLIs that create or read them. */
export function retryTiers(env: NodeJS.ProcessEnv = process.env): RetryTier[] {
  return parseTiers(env.RETRY_TIERS || DEFAULT_RETRY_TIERS, topicNames(env).retry);
}

/** Topic-only settings, for the CLIs that talk to Kafka but not to the API. */
export function topicNames(env: NodeJS.ProcessEnv = process.env): TopicNames {
  return topicNamesFrom(env);
}

function keySource(name: string, file: string | undefined, pem: string | undefined): KeySource {
  return file ? { name: `${name}_FILE`, file } : { name, pem };
}

function describe(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const variable = String(issue.path[0]);
  if (env[variable] === undefined && issue.code === 'invalid_type') return 'required';
  // Values are not echoed: a misplaced secret must not end up in a log line.
  return issue.message;
}
