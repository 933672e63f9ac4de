/** Topics, request producers and a live read_committed outcome collector for the benchmarks. */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { createKafka } from '../../src/app/kafka-client';
import { loadTopicSettings } from '../../src/config/config';
import { loadKafkaConnection } from '../../src/config/connection';
import { toEnv } from '../../src/config/environment';
import { dispositionOf, outcomeTopics, prefixedTopics, TOPIC_ROLES, topicEnv, type OutcomeRole, type TopicNames } from '../../src/events/contract';
import type { EventCodec } from '../../src/events/event-codec';
import type { RetryTier } from '../../src/retry/tiers';
import type { CaptureRequested } from '../../src/events/types.generated';
import { sleep } from '../../src/util/sleep';
import { LiveReader, type LiveRecord } from './live-reader';

/** `brokers` with the security settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_TLS_*) of the environment. */
export function benchKafka(brokers: string): Kafka {
  return createKafka(loadKafkaConnection({ ...process.env, KAFKA_BROKERS: brokers }, 'bench'));
}

export type BenchTopics = TopicNames & { group: string; id: string };

/** `<prefix>-<random>.<role>` for every role of the contract, and a group of the run's own. */
export function freshTopics(prefix: string): BenchTopics {
  const id = `${prefix}-${randomUUID().slice(0, 8)}`;
  return { ...prefixedTopics(id), id, group: `${id}-group` };
}

/** The delay topics of a set: the worker's default RETRY_TIERS unless the environment sets it, as the worker reads it. */
export function retryTiers(t: TopicNames): RetryTier[] {
  return loadTopicSettings({ ...topicEnv(t), ...toEnv({ RETRY_TIERS: process.env.RETRY_TIERS }) }).tiers;
}

/** Every topic of a set, the retry tiers included. */
export function topicList(t: TopicNames): string[] {
  return [...TOPIC_ROLES.map((role) => t[role]), ...retryTiers(t).map((tier) => tier.topic)];
}

export async function createTopics(admin: Admin, t: TopicNames, partitions: number): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: topicList(t).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
}

/** Publishes requests; remembers each key's requestedAt for the latency of its outcome. */
export class RequestProducer {
  readonly requestedAt = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly topic: string,
    private readonly runId: string,
  ) {}

  static async create(kafka: Kafka, codec: EventCodec, topic: string, runId: string): Promise<RequestProducer> {
    await codec.useSubject('CaptureRequested', topic);
    // Idempotent, so a retried send cannot put the same request in the log twice.
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new RequestProducer(producer, codec, topic, runId);
  }

  /** `count` good requests, each with a unique key and payment id. */
  async send(count: number): Promise<void> {
    const messages: Message[] = [];
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const n = ++this.seq;
      const key = `cr-${this.runId}-${n}`;
      const value: CaptureRequested = { paymentId: `pay-${this.runId}-${n}`, captureAmount: { currency: 'USD', value: '100' }, requestedAt: now, metadata: { bench: 'e2e' } };
      this.requestedAt.set(key, now);
      messages.push({ key, value: this.codec.encode('CaptureRequested', value) });
    }
    await this.sendRaw(messages);
  }

  async sendRaw(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) {
      await this.producer.send({ topic: this.topic, messages: messages.slice(i, i + 1000) });
    }
  }

  /** Open-loop: `rate` requests/s for `seconds`, in small batches every 10 ms. */
  async paced(rate: number, seconds: number, shouldStop: () => boolean = () => false): Promise<number> {
    const start = performance.now();
    let sent = 0;
    const total = Math.round(rate * seconds);
    while (sent < total && !shouldStop()) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      if (due > sent) {
        const n = due - sent;
        await this.send(n);
        sent += n;
      }
      await sleep(10);
    }
    return sent;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

export interface Outcome {
  topic: string;
  role: OutcomeRole;
  partition: number;
  offset: string;
  /** Outcome record timestamp (the producer's create time). */
  timestamp: number;
  /** When this collector saw it (read_committed, so after the commit). */
  seenAt: number;
}

/** A live read_committed consumer of outcome topics: first outcome per key, duplicates counted. */
export class OutcomeCollector {
  readonly outcomes = new Map<string, Outcome>();
  /** Another record with a key already seen (a real duplicate in the log). */
  duplicates = 0;
  firstSeenAt = 0;
  lastSeenAt = 0;
  private reader!: LiveReader;

  private constructor(private readonly topics: TopicNames) {}

  /** Reads the outcome topics of the set. */
  static async start(kafka: Kafka, topics: TopicNames): Promise<OutcomeCollector> {
    const collector = new OutcomeCollector(topics);
    collector.reader = await LiveReader.start(kafka, outcomeTopics(topics), (r) => collector.take(r), { groupPrefix: 'bench-collector' });
    return collector;
  }

  /** The same record delivered to this collector again (not a duplicate in the log). */
  get redeliveries(): number {
    return this.reader.redeliveries;
  }

  get count(): number {
    return this.outcomes.size;
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  private take(r: LiveRecord): void {
    const key = r.key?.toString() ?? '';
    if (this.outcomes.has(key)) {
      this.duplicates++;
      return;
    }
    this.outcomes.set(key, { topic: r.topic, role: dispositionOf(this.topics, r.topic) as OutcomeRole, partition: r.partition, offset: r.offset, timestamp: r.timestamp, seenAt: r.seenAt });
    if (!this.firstSeenAt) this.firstSeenAt = r.seenAt;
    this.lastSeenAt = r.seenAt;
  }
}

export { withAdmin } from '../../src/cli/admin';

/** Records in a topic (sum of high watermarks; the topics are fresh, so low is 0). */
export async function recordCount(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}
