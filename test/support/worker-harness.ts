import type { Kafka, Producer } from 'kafkajs';
import { startWorkerApp, RunningWorker } from '../../src/app/worker-app';
import { loadConfig, TopicNames } from '../../src/config/config';
import { dispositionTopics, outcomeTopics, roleOf, TOPIC_CONTRACT, type OutcomeRole } from '../../src/events/contract';
import { sandboxWorkerEnv } from '../../tools/worker-env';
import type { EventCodec, EventTypes } from '../../src/events/event-codec';
import { EventRegistry } from '../../src/events/registry';
import type { CaptureRequested } from '../../src/events/types.generated';
import { parseTiers } from '../../src/retry/tiers';
import type { Sandbox, SandboxOptions } from '../../tools/sandbox/server';
import { startTestSandbox } from './test-sandbox';
import { CollectedRecord, createTopics, readToEnd, readWhen, RecordWatcher, registryUrl, testKafka, uniqueTopics } from './kafka';

const TEST_RETRY_TIERS = '250ms,1s,5s,5m';

export interface Outcome {
  topic: OutcomeRole;
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
  readonly registry = EventRegistry.forUrl(registryUrl());
  readonly codec: EventCodec = this.registry.codec;
  sandbox!: Sandbox;
  env!: NodeJS.ProcessEnv;
  private workers: RunningWorker[] = [];
  private producer: Producer | undefined;

  constructor(
    prefix: string,
    private readonly partitions = 3,
  ) {
    this.topics = uniqueTopics(prefix);
  }

  async setup(sandboxOptions: Partial<SandboxOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const test = await startTestSandbox(sandboxOptions);
    this.sandbox = test.sandbox;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Short tiers keep retry tests quick; a test may set RETRY_TIERS of its own.
      const tiers = parseTiers(env.RETRY_TIERS ?? TEST_RETRY_TIERS, this.topics.retry).map((tier) => tier.topic);
      await createTopics(admin, [this.topics.requested, this.topics.retry, ...tiers], this.partitions);
      await createTopics(admin, dispositionTopics(this.topics), 1);
    } finally {
      // A connection left open keeps jest from exiting after a failed setup.
      await admin.disconnect();
    }
    // Registered before any worker starts, as `capture-worker init` does: instances starting together
    // would otherwise race to register the outcome subjects, and the registry client fails the one
    // that checks a subject's compatibility while another's first registration is half done.
    await this.registry.registerEvents(this.topics);
    await this.codec.useSubject('CaptureRequested', this.topics.requested);
    this.env = {
      ...sandboxWorkerEnv(test.worker({ brokers: process.env.KAFKA_BROKERS!, registryUrl: registryUrl() }, this.topics), {
        LOG_LEVEL: 'silent',
        API_TIMEOUT_MS: 1000,
        RETRY_BASE_DELAY_MS: 200,
        RETRY_MAX_DELAY_MS: 1000,
        RETRY_MAX_ATTEMPTS: 6,
        RETRY_TIERS: TEST_RETRY_TIERS,
        TRANSACTION_LINGER_MS: 5,
        SHUTDOWN_GRACE_MS: 5000,
      }),
      ...env,
    };
  }

  /**
   * TRANSACTIONAL_ID is left to the worker's default (derived from GROUP_ID): every instance of a
   * group shares it, as every replica of one deployment does.
   */
  async startWorker(env: NodeJS.ProcessEnv = {}): Promise<RunningWorker> {
    const merged = { ...this.env, ...env };
    const worker = await startWorkerApp(loadConfig(merged));
    this.workers.push(worker);
    return worker;
  }

  /** To the request topic unless told another (e.g. a retry tier's). */
  async produce(
    requests: Array<{ key: string | Buffer | null; value: CaptureRequested | Buffer | null; headers?: Record<string, string>; partition?: number }>,
    topic = this.topics.requested,
  ): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer();
      await this.producer.connect();
    }
    await this.producer.send({
      topic,
      messages: requests.map((r) => ({
        key: r.key,
        value: r.value === null || Buffer.isBuffer(r.value) ? r.value : this.codec.encode('CaptureRequested', r.value),
        headers: r.headers,
        partition: r.partition,
      })),
    });
  }

  private get outcomeTopics(): string[] {
    return outcomeTopics(this.topics);
  }

  private toOutcome(record: CollectedRecord): Outcome {
    const topic = roleOf(this.topics, record.topic) as OutcomeRole;
    return { topic, key: record.key!.toString(), event: peek(this.codec, topic, record.value!) };
  }

  /** Waits until `done` holds for the committed outcomes seen so far, then returns every one read to the end offsets. */
  async outcomes(done: (outcomes: Outcome[]) => boolean, timeoutMs = 60_000): Promise<Outcome[]> {
    const toOutcomes = (records: CollectedRecord[]) => records.map((r) => this.toOutcome(r));
    return toOutcomes(await readWhen(this.kafka, this.outcomeTopics, (records) => done(toOutcomes(records)), timeoutMs));
  }

  /** Every committed outcome, each outcome topic read to the end offsets it has when called. */
  async allOutcomes(): Promise<Outcome[]> {
    return (await readToEnd(this.kafka, this.outcomeTopics)).map((r) => this.toOutcome(r));
  }

  /** Follows committed outcomes as they come, for waiting on progress; close() it. */
  watchOutcomes(): Promise<OutcomeWatcher> {
    return new OutcomeWatcher(this.kafka, this.outcomeTopics, (r) => this.toOutcome(r)).start();
  }

  /** Waits for `count` DLQ records, then returns the DLQ read to its end offsets. */
  dlq(count: number, timeoutMs = 60_000): Promise<CollectedRecord[]> {
    return readWhen(this.kafka, [this.topics.dlq], (records) => records.length >= count, timeoutMs);
  }

  async teardown(): Promise<void> {
    for (const worker of this.workers.splice(0)) await worker.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    // Undefined when setup failed before the sandbox started.
    await (this.sandbox as Sandbox | undefined)?.close();
    await this.registry.close();
  }
}

/** Committed outcomes seen so far, decoded once each, and the keys that have a terminal one. */
export class OutcomeWatcher {
  readonly outcomes: Outcome[] = [];
  readonly terminalKeys = new Set<string>();
  private readonly watcher: RecordWatcher;

  constructor(kafka: Kafka, topics: string[], decode: (record: CollectedRecord) => Outcome) {
    this.watcher = new RecordWatcher(kafka, topics, (record) => {
      const outcome = decode(record);
      this.outcomes.push(outcome);
      if (isTerminal(outcome)) this.terminalKeys.add(outcome.key);
    });
  }

  async start(): Promise<this> {
    await this.watcher.start();
    return this;
  }

  until(condition: (w: this) => boolean, timeoutMs: number): Promise<void> {
    return this.watcher.until(
      () => condition(this),
      timeoutMs,
      () => `(seen ${this.outcomes.length} outcomes, ${this.terminalKeys.size} keys terminal)`,
    );
  }

  /** Until every key has a terminal outcome. */
  allTerminal(keys: readonly string[], timeoutMs: number): Promise<void> {
    return this.until((w) => keys.every((k) => w.terminalKeys.has(k)), timeoutMs);
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}

/** Reads an outcome with the local reader schema (same as the writer here), without the registry. */
function peek(codec: EventCodec, role: OutcomeRole, bytes: Buffer): Outcome['event'] {
  return codec.reader(TOPIC_CONTRACT[role].event).fromBuffer(bytes.subarray(5)) as Outcome['event'];
}

export function request(paymentId: string, value = '1000', currency = 'HKD', metadata: Record<string, string> = {}): CaptureRequested {
  return { paymentId, captureAmount: { currency, value }, requestedAt: Date.now(), metadata };
}

export function isTerminal(o: Outcome): boolean {
  return o.topic !== 'unknown' || (o.event as EventTypes['CaptureUnknown']).final;
}

export function terminal(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter(isTerminal);
}

export interface ExactlyOnceReport {
  /** Keys without a terminal outcome. */
  missing: string[];
  /** Keys with more than one terminal outcome, and which topics those came from. */
  duplicates: Array<{ key: string; outcomes: string[] }>;
  /** Terminal outcomes for keys that were never requested. */
  unexpected: string[];
}

/** Given outcomes read to the end offsets, which requests broke "exactly one terminal outcome". */
export function exactlyOnce(outcomes: Outcome[], keys: readonly string[]): ExactlyOnceReport {
  const perKey = new Map<string, string[]>();
  for (const o of terminal(outcomes)) {
    const list = perKey.get(o.key) ?? [];
    list.push(`${o.topic}#${o.event.attempt}`);
    perKey.set(o.key, list);
  }
  const requested = new Set(keys);
  return {
    missing: keys.filter((k) => !perKey.has(k)),
    duplicates: [...perKey].filter(([, list]) => list.length > 1).map(([key, list]) => ({ key, outcomes: list })),
    unexpected: [...perKey.keys()].filter((k) => !requested.has(k)),
  };
}

/**
 * Keys with more than one non-final CaptureUnknown for the same attempt: one retry chain commits
 * each attempt once, so a repeat means two chains ran for the key.
 */
export function repeatedAttempts(outcomes: Outcome[]): Array<{ key: string; attempt: number; count: number }> {
  const counts = new Map<string, { key: string; attempt: number; count: number }>();
  for (const o of outcomes) {
    if (isTerminal(o)) continue;
    const id = `${o.key}#${o.event.attempt}`;
    const entry = counts.get(id) ?? { key: o.key, attempt: o.event.attempt, count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  return [...counts.values()].filter((e) => e.count > 1);
}
