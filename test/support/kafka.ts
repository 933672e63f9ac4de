import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '../../src/app/kafka-client';
import { headerText, partitionId, readTopics, type ReadRecord } from '../../src/cli/topic-reader';
import { prefixedTopics, type TopicNames } from '../../src/events/contract';
import { loadKafkaConnection } from '../../src/config/connection';
import { sleep } from '../../src/util/sleep';

/** A client connected as the worker would be with `env` (KAFKA_BROKERS and any KAFKA_* security settings). */
export function testKafka(clientId = 'capture-worker-test', env: NodeJS.ProcessEnv = process.env): Kafka {
  if (!env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set: run integration tests through jest (global setup starts the stack)');
  return createKafka(loadKafkaConnection(env, clientId));
}

export function registryUrl(): string {
  const url = process.env.SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('SCHEMA_REGISTRY_URL is not set: run integration tests through jest');
  return url;
}

/** Every test file gets topics and group ids of its own, so files can run in parallel. */
export function uniqueTopics(prefix: string): TopicNames & { group: string } {
  const id = `${prefix}-${randomUUID().slice(0, 8)}`;
  return { ...prefixedTopics(id), group: `${id}-group` };
}

/**
 * Creates the topics and waits until every partition has a leader. Not KafkaJS's waitForLeaders:
 * on a busy broker its metadata request can still answer UNKNOWN_TOPIC_OR_PARTITION for a topic
 * just created, and that ends the wait with an error instead of asking again.
 */
export async function createTopics(admin: Admin, topics: string[], numPartitions = 3, timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })) });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin.fetchTopicMetadata({ topics }).then(
      ({ topics: found }) => found.length === topics.length && found.every((t) => t.partitions.length === numPartitions && t.partitions.every((p) => p.leader >= 0)),
      () => false,
    );
    if (led) return;
    if (Date.now() > deadline) throw new Error(`createTopics: ${topics.join(', ')} without leaders after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export interface CollectedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

function collected(record: ReadRecord): CollectedRecord {
  return { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: record.value, headers: headerText(record.headers) };
}

/**
 * Every committed record of `topics` up to the end offsets taken when the call starts, read by
 * the product's reader (src/cli/topic-reader.ts, as `tail` reads): one snapshot, no records
 * written after it.
 */
export async function readToEnd(kafka: Kafka, topics: string[]): Promise<CollectedRecord[]> {
  const records: CollectedRecord[] = [];
  await readTopics(kafka, { topics, groupPrefix: 'test-reader' }, (record) => void records.push(collected(record)));
  return records;
}

/**
 * Waits until `done` holds for the committed records of `topics` seen so far (the timeout throws,
 * saying how many were seen), then returns them all read to the end offsets.
 */
export async function readWhen(kafka: Kafka, topics: string[], done: (records: CollectedRecord[]) => boolean, timeoutMs = 60_000): Promise<CollectedRecord[]> {
  const seen: CollectedRecord[] = [];
  const watcher = await new RecordWatcher(kafka, topics, (record) => seen.push(record)).start();
  try {
    await watcher.until(
      () => done(seen),
      timeoutMs,
      () => `(saw ${seen.length} records)`,
    );
  } finally {
    await watcher.close();
  }
  return readToEnd(kafka, topics);
}

/**
 * Committed records of `topics` from the beginning, each handed to `onRecord` once as it comes,
 * until close(). For waiting on progress while workers run (counts come from readToEnd). A read
 * that fails (a broker restart) starts again after the last record seen of each partition.
 */
export class RecordWatcher {
  private readonly next = new Map<string, number>();
  private checks: Array<() => void> = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private stop!: () => void;
  private failure: Error | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
    private readonly onRecord: (record: CollectedRecord) => void,
  ) {}

  start(): Promise<this> {
    const stopped = new Promise<void>((resolve) => (this.stop = resolve));
    this.running = this.loop(stopped);
    return Promise.resolve(this);
  }

  private async loop(stopped: Promise<void>): Promise<void> {
    while (!this.closed) {
      try {
        await readTopics(this.kafka, { topics: this.topics, groupPrefix: 'test-watcher', from: this.next, follow: true, stop: stopped }, (record) => {
          this.next.set(partitionId(record.topic, record.partition), Number(record.offset) + 1);
          this.onRecord(collected(record));
          this.check();
        });
      } catch (error) {
        this.failure = error as Error;
        await sleep(200);
      }
    }
  }

  private check(): void {
    for (const check of this.checks) check();
  }

  /** Resolves once `condition` holds (checked now, after every record and every 200 ms); throws after the timeout with `describe()`. */
  until(condition: () => boolean, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        done();
        resolve();
      };
      const poll = setInterval(check, 200);
      const timer = setTimeout(() => {
        done();
        const last = this.failure ? `; last read error: ${this.failure.message}` : '';
        reject(new Error(`condition not met within ${timeoutMs} ms ${describe()}${last}`.trim()));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.checks = this.checks.filter((c) => c !== check);
      };
      this.checks.push(check);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    await this.running;
  }
}

/** The group's state and member count as the coordinator sees them. */
export async function describeGroup(kafka: Kafka, groupId: string): Promise<{ state: string; members: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? 'Dead', members: groups[0]?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}
