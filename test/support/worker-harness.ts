import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { generateKeyPair } from '../../src/api/keys';
import { startWorkerApp, RunningWorker } from '../../src/app/worker-app';
import { loadConfig, TopicNames } from '../../src/config/config';
import { EventCodec, EventTypes } from '../../src/events/event-codec';
import type { EventName } from '../../src/events/schema-files';
import type { CaptureRequested } from '../../src/events/types.generated';
import { Sandbox, SandboxOptions, startSandbox } from '../../src/sandbox/server';
import { collect, CollectedRecord, createTopics, registryUrl, testKafka, uniqueTopics } from './kafka';

export interface Outcome {
  topic: 'succeeded' | 'failed' | 'unknown';
  key: string;
  event: EventTypes['CaptureSucceeded'] | EventTypes['CaptureFailed'] | EventTypes['CaptureUnknown'];
}

/**
 * A real sandbox, real topics of the test's own, and a worker wired exactly as in production
 * (startWorkerApp), with helpers to publish requests and read committed outcomes.
 */
export class WorkerHarness {
  readonly kafka: Kafka = testKafka();
  readonly topics: TopicNames & { group: string };
  readonly codec = EventCodec.forUrl(registryUrl());
  sandbox!: Sandbox;
  env!: NodeJS.ProcessEnv;
  private workers: RunningWorker[] = [];

  constructor(prefix: string, private readonly partitions = 3) {
    this.topics = uniqueTopics(prefix);
  }

  async setup(sandboxOptions: Partial<SandboxOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const merchant = await generateKeyPair();
    this.sandbox = await startSandbox({ port: 0, merchantPublicKey: merchant.publicKey, ...sandboxOptions });
    const admin = this.kafka.admin();
    await admin.connect();
    await createTopics(admin, [this.topics.requested, this.topics.retry], this.partitions);
    await createTopics(admin, [this.topics.succeeded, this.topics.failed, this.topics.unknown, this.topics.dlq], 1);
    await admin.disconnect();
    await this.codec.useSubject('CaptureRequested', this.topics.requested);
    this.env = {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      SCHEMA_REGISTRY_URL: registryUrl(),
      ANTOM_BASE_URL: this.sandbox.url,
      ANTOM_CLIENT_ID: 'TEST_CLIENT',
      ANTOM_PRIVATE_KEY: merchant.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      ANTOM_PUBLIC_KEY: this.sandbox.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      GROUP_ID: this.topics.group,
      TOPIC_REQUESTED: this.topics.requested,
      TOPIC_SUCCEEDED: this.topics.succeeded,
      TOPIC_FAILED: this.topics.failed,
      TOPIC_UNKNOWN: this.topics.unknown,
      TOPIC_RETRY: this.topics.retry,
      TOPIC_DLQ: this.topics.dlq,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      API_TIMEOUT_MS: '1000',
      RETRY_BASE_DELAY_MS: '200',
      RETRY_MAX_DELAY_MS: '1000',
      RETRY_MAX_ATTEMPTS: '6',
      TRANSACTION_LINGER_MS: '5',
      SHUTDOWN_GRACE_MS: '5000',
      ...env,
    };
  }

  async startWorker(env: NodeJS.ProcessEnv = {}): Promise<RunningWorker> {
    const merged = { ...this.env, TRANSACTIONAL_ID: `tx-${randomUUID()}`, ...env };
    const worker = await startWorkerApp(loadConfig(merged), merged);
    this.workers.push(worker);
    return worker;
  }

  async produce(requests: Array<{ key: string | null; value: CaptureRequested | Buffer | null; headers?: Record<string, string>; partition?: number }>): Promise<void> {
    const producer = this.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: this.topics.requested,
      messages: requests.map((r) => ({
        key: r.key,
        value: r.value === null || Buffer.isBuffer(r.value) ? r.value : this.codec.encode('CaptureRequested', r.value),
        headers: r.headers,
        partition: r.partition,
      })),
    });
    await producer.disconnect();
  }

  /** Committed outcome events, read until `done` holds. */
  async outcomes(done: (outcomes: Outcome[]) => boolean, timeoutMs = 60_000): Promise<Outcome[]> {
    const names: Record<string, [Outcome['topic'], EventName]> = {
      [this.topics.succeeded]: ['succeeded', 'CaptureSucceeded'],
      [this.topics.failed]: ['failed', 'CaptureFailed'],
      [this.topics.unknown]: ['unknown', 'CaptureUnknown'],
    };
    const toOutcomes = (records: CollectedRecord[]) =>
      records.map((r) => ({ topic: names[r.topic][0], key: r.key!.toString(), event: peek(this.codec, names[r.topic][1], r.value!) }));
    return toOutcomes(await collect(this.kafka, Object.keys(names), (records) => done(toOutcomes(records)), timeoutMs));
  }

  dlq(count: number, timeoutMs = 60_000): Promise<CollectedRecord[]> {
    return collect(this.kafka, [this.topics.dlq], (records) => records.length >= count, timeoutMs);
  }

  async teardown(): Promise<void> {
    for (const worker of this.workers.splice(0)) await worker.stop().catch(() => undefined);
    await this.sandbox?.close();
  }
}

/** Reads an outcome with the local reader schema (same as the writer here), without the registry. */
function peek(codec: EventCodec, name: EventName, bytes: Buffer): Outcome['event'] {
  return codec.reader(name).fromBuffer(bytes.subarray(5)) as Outcome['event'];
}

export function request(paymentId: string, value = '1000', currency = 'HKD', metadata: Record<string, string> = {}): CaptureRequested {
  return { paymentId, captureAmount: { currency, value }, requestedAt: Date.now(), metadata };
}

export function terminal(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.topic !== 'unknown' || (o.event as EventTypes['CaptureUnknown']).final);
}
