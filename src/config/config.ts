import type { z } from 'zod';
import type { KeySource } from '../api/keys';
import { parseTiers, type RetryTier } from '../retry/tiers';
import { TOPIC_CONTRACT, TOPIC_ROLES, topicNamesFrom, type TopicNames } from '../events/contract';
import { ConfigError, EnvSettings, KafkaConnection, ReadOptions, readKafkaConnection, readRegistryConnection, RegistryConnection } from './connection';
import type { TopicLayout } from '../app/topics';
import { workerSchema, type WorkerEnv } from './settings';
import { unknownVariables } from './environment';

export { ConfigError };

// Topic names: every one is configurable, variables and defaults are the event contract's.
export type { TopicNames, TopicRole } from '../events/contract';

export interface WorkerConfig {
  kafka: KafkaConnection & {
    groupId: string;
    /** The same for every instance of a group, so a partition's new owner fences its previous one. */
    transactionalIdPrefix: string;
    consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number; fetchMaxWaitMs: number; partitionsConcurrency: number };
  };
  schemaRegistry: RegistryConnection;
  topics: TopicNames;
  topicLayout: TopicLayout;
  api: { baseUrl: string; clientId: string; keyVersion: string; privateKey: KeySource; vendorPublicKey: KeySource; timeoutMs: number; connections: number; haltProbeMs: number; sandbox: boolean };
  maxInFlight: number;
  /** The adaptive limit on concurrent API calls; its maximum is maxInFlight. */
  concurrency: { min: number; initial: number; latencyTolerance: number };
  breaker: { windowSize: number; minCalls: number; faultRatio: number; openMs: number; maxOpenMs: number };
  retry: { baseDelayMs: number; maxDelayMs: number; maxAttempts: number; deadlineMs: number; tiers: RetryTier[] };
  transaction: { maxRecords: number; lingerMs: number; maxBytes: number };
  /** Larger request values go to the DLQ: their outcomes might not fit the broker's message limit. */
  maxRecordBytes: number;
  shutdownGraceMs: number;
  kafkaStartTimeoutMs: number;
  liveness: { pollMs: number; progressMs: number };
  /** OpenTelemetry traces (the standard OTEL_* variables); undefined: off. */
  tracing: TracingSettings | undefined;
  logLevel: WorkerEnv['LOG_LEVEL'];
  logSuccessShare: number;
  httpPort: number;
  /** Variables that look like settings but are none (typos); logged at start, not fatal. */
  warnings: string[];
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
function topicClashes(value: TopicEnv, tiers: RetryTier[]): string[] {
  const users = new Map<string, string[]>();
  const use = (topic: string, variable: string) => users.set(topic, [...(users.get(topic) ?? []), variable]);
  for (const role of TOPIC_ROLES) use(value[TOPIC_CONTRACT[role].variable], TOPIC_CONTRACT[role].variable);
  for (const tier of tiers) use(tier.topic, `RETRY_TIERS (${tier.label})`);
  return [...users].filter(([, variables]) => variables.length > 1).map(([topic, variables]) => `${variables.join(', ')}: all name topic ${topic}; every role needs a topic of its own`);
}

const TOPIC_VARIABLES = ['RETRY_TIERS', 'TOPIC_PARTITIONS', 'TOPIC_REPLICATION_FACTOR', 'TOPIC_MIN_INSYNC_REPLICAS', ...TOPIC_ROLES.map((role) => TOPIC_CONTRACT[role].variable)] as const;
const topicSchema = workerSchema.pick(Object.fromEntries(TOPIC_VARIABLES.map((name) => [name, true])) as { [K in (typeof TOPIC_VARIABLES)[number]]: true });
type TopicEnv = z.infer<typeof topicSchema>;

export interface TopicSettings {
  topics: TopicNames;
  /** The delay topics of RETRY_TIERS, shortest first. */
  tiers: RetryTier[];
  /** For the topics `init` creates. */
  layout: TopicLayout;
}

function readTopicSettings(value: TopicEnv, problems: string[]): TopicSettings {
  let tiers: RetryTier[] = [];
  try {
    tiers = parseTiers(value.RETRY_TIERS, value.TOPIC_RETRY);
  } catch (error) {
    problems.push(`RETRY_TIERS: ${(error as Error).message}`);
  }
  problems.push(...topicClashes(value, tiers));
  return {
    topics: topicNamesFrom(value),
    tiers,
    layout: { partitions: value.TOPIC_PARTITIONS, replicationFactor: value.TOPIC_REPLICATION_FACTOR, minInsyncReplicas: value.TOPIC_MIN_INSYNC_REPLICAS },
  };
}

/** The topic part of the configuration, validated as the worker validates it, for the CLIs that create, write or read topics. */
export function loadTopicSettings(env: NodeJS.ProcessEnv = process.env): TopicSettings {
  const parsed = topicSchema.safeParse(env);
  const problems = parsed.success ? [] : issues(parsed.error, env);
  const settings = parsed.success ? readTopicSettings(parsed.data, problems) : undefined;
  if (problems.length > 0 || !settings) throw new ConfigError(problems);
  return settings;
}

/**
 * Validates the environment at start; the error lists every problem at once, by variable name.
 * Secret and certificate files (*_FILE) are read here, unless `options.readFiles` is false.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: ReadOptions = {}): WorkerConfig {
  const settings = new EnvSettings(env, options);
  const connection = readKafkaConnection(settings, 'capture-worker');
  const schemaRegistry = readRegistryConnection(settings);
  const parsed = workerSchema.safeParse(env);
  const problems = [...settings.problems, ...(parsed.success ? [] : issues(parsed.error, env))];
  const value = parsed.success ? parsed.data : undefined;
  for (const [file, inline] of [
    ['ANTOM_PRIVATE_KEY_FILE', 'ANTOM_PRIVATE_KEY'],
    ['ANTOM_PUBLIC_KEY_FILE', 'ANTOM_PUBLIC_KEY'],
  ] as const) {
    if (!env[file] && !env[inline]) problems.push(`${file}: required (or set ${inline} to the key itself)`);
  }
  if (value) problems.push(...crossChecks(value));
  const topicSettings = value && readTopicSettings(value, problems);
  if (problems.length > 0 || !value || !topicSettings) throw new ConfigError(problems);

  return {
    kafka: {
      ...connection,
      groupId: value.GROUP_ID,
      transactionalIdPrefix: value.TRANSACTIONAL_ID ?? value.GROUP_ID,
      consumer: {
        sessionTimeoutMs: value.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: value.KAFKA_HEARTBEAT_INTERVAL_MS,
        fetchMaxWaitMs: value.KAFKA_FETCH_MAX_WAIT_MS,
        partitionsConcurrency: value.KAFKA_PARTITIONS_CONCURRENCY,
      },
    },
    schemaRegistry,
    topics: topicSettings.topics,
    topicLayout: topicSettings.layout,
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
    breaker: { windowSize: value.BREAKER_WINDOW, minCalls: value.BREAKER_MIN_CALLS, faultRatio: value.BREAKER_FAULT_RATIO, openMs: value.BREAKER_OPEN_MS, maxOpenMs: value.BREAKER_MAX_OPEN_MS },
    retry: {
      baseDelayMs: value.RETRY_BASE_DELAY_MS,
      maxDelayMs: value.RETRY_MAX_DELAY_MS,
      maxAttempts: value.RETRY_MAX_ATTEMPTS,
      deadlineMs: value.RETRY_DEADLINE_MS,
      tiers: topicSettings.tiers,
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
    warnings: unknownVariables(env),
  };
}

/** Relations between settings that each look valid on their own. */
function crossChecks(value: WorkerEnv): string[] {
  const problems: string[] = [];
  if (value.RETRY_MAX_DELAY_MS < value.RETRY_BASE_DELAY_MS) problems.push('RETRY_MAX_DELAY_MS: must be at least RETRY_BASE_DELAY_MS');
  if (value.API_CONCURRENCY_INITIAL < value.API_CONCURRENCY_MIN) problems.push('API_CONCURRENCY_INITIAL: must be at least API_CONCURRENCY_MIN');
  if (value.BREAKER_MAX_OPEN_MS < value.BREAKER_OPEN_MS) problems.push('BREAKER_MAX_OPEN_MS: must be at least BREAKER_OPEN_MS');
  if (value.BREAKER_MIN_CALLS > value.BREAKER_WINDOW) problems.push('BREAKER_MIN_CALLS: must be at most BREAKER_WINDOW');
  if (value.KAFKA_HEARTBEAT_INTERVAL_MS * 3 > value.KAFKA_SESSION_TIMEOUT_MS) problems.push('KAFKA_HEARTBEAT_INTERVAL_MS: must be at most a third of KAFKA_SESSION_TIMEOUT_MS');
  if (value.ANTOM_SANDBOX !== 'true' && value.ANTOM_BASE_URL.startsWith('http://')) {
    problems.push('ANTOM_BASE_URL: the vendor API is https; http:// is only for the capture sandbox, with ANTOM_SANDBOX=true');
  }
  return problems;
}

function keySource(name: string, file: string | undefined, pem: string | undefined): KeySource {
  return file ? { name: `${name}_FILE`, file } : { name, pem };
}

function issues(error: z.ZodError, env: NodeJS.ProcessEnv): string[] {
  return error.issues.map((issue) => {
    const variable = String(issue.path[0]);
    // Values are not echoed: a misplaced secret must not end up in a log line.
    return `${variable}: ${env[variable] === undefined && issue.code === 'invalid_type' ? 'required' : issue.message}`;
  });
}
