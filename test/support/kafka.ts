import { randomUUID } from 'node:crypto';
import { Admin, Consumer, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import { createKafka } from '../../src/app/kafka-client';
import type { TopicNames } from '../../src/config/config';
import { loadKafkaConnection } from '../../src/config/connection';

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
  return {
    requested: `${id}.requested`,
    succeeded: `${id}.succeeded`,
    failed: `${id}.failed`,
    unknown: `${id}.unknown`,
    retry: `${id}.retry`,
    dlq: `${id}.dlq`,
    group: `${id}-group`,
  };
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
    await new Promise((resolve) => setTimeout(resolve, 100));
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

/**
 * A read_committed consumer from the beginning of `topics`, collecting every record until
 * `done(records)` holds or the timeout passes (then it throws, showing what it saw).
 */
export async function collect(kafka: Kafka, topics: string[], done: (records: CollectedRecord[]) => boolean, timeoutMs = 60_000): Promise<CollectedRecord[]> {
  const records: CollectedRecord[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: `collector-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => (resolveDone = resolve));
    await consumer.run({
      eachMessage: async ({ topic, partition, message }: EachMessagePayload) => {
        records.push(toRecord(topic, partition, message));
        if (done(records)) resolveDone();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`collect: condition not met within ${timeoutMs} ms; saw ${records.length} records`)), timeoutMs);
    });
    if (!done(records)) await Promise.race([finished, timeout]);
    clearTimeout(timer);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

function toRecord(topic: string, partition: number, message: KafkaMessage): CollectedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
  };
}

/*
 * Outcome counts need a read_committed view that is exactly right, and a KafkaJS consumer's is not
 * always: it drops aborted records by walking the fetch's aborted-transaction list in the order the
 * broker sends it (by where each transaction ended) as if it were sorted by where each began, one
 * entry per record. With several producers' transactions interleaved in one partition (each
 * worker instance's, or each input partition's producer) a record of an aborted transaction can
 * come through, and after a fetch that starts inside several of them a committed one can be
 * dropped. So the readers below fetch with KafkaJS's own protocol client and filter as the Java
 * consumer does: aborted transactions by first offset, a producer's records skipped from its
 * aborted transaction's first offset to its abort marker.
 */

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  isControlRecord?: boolean;
  batchContext: { firstOffset: string; lastOffsetDelta: number; producerId: string; inTransaction: boolean; isControlBatch: boolean };
}

interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  abortedTransactions?: Array<{ producerId: string; firstOffset: string }>;
  messages: FetchedMessage[];
}

/** The parts of KafkaJS's internal cluster and broker clients used here (kafkajs 2.2). */
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
  findBroker(node: { nodeId: number }): Promise<{
    fetch(request: {
      isolationLevel: number;
      maxWaitTime: number;
      minBytes: number;
      maxBytes: number;
      topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
    }): Promise<{ responses: Array<{ topicName: string; partitions: FetchedPartition[] }> }>;
  }>;
  fetchTopicsOffset(
    topics: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/** A cluster client of KafkaJS's own, built by the Kafka instance's (private) factory, as its consumers' are. */
function internalCluster(kafka: Kafka, isolationLevel: number): InternalCluster {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = factory && (kafka as unknown as Record<symbol, unknown>)[factory];
  if (typeof create !== 'function') throw new Error('this KafkaJS version has no private cluster factory: test/support/kafka.ts needs updating');
  return create({ isolationLevel, allowAutoTopicCreation: false }) as InternalCluster;
}

/** The committed records of one fetch response, and the offset to fetch next. */
function committedRecords(topic: string, data: FetchedPartition, fetchOffset: bigint): { records: CollectedRecord[]; next: bigint } {
  const aborted = [...(data.abortedTransactions ?? [])].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1));
  const abortedProducers = new Set<string>();
  const records: CollectedRecord[] = [];
  let next = fetchOffset;
  for (const message of data.messages) {
    const { batchContext: batch } = message;
    const batchEnd = BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta) + 1n;
    if (batchEnd > next) next = batchEnd;
    if (BigInt(message.offset) < fetchOffset) continue;
    while (aborted.length > 0 && BigInt(aborted[0]!.firstOffset) < batchEnd) abortedProducers.add(aborted.shift()!.producerId);
    if (batch.isControlBatch) {
      // Control record key: version (int16), type (int16): 0 is an abort marker, 1 a commit marker.
      if (message.key && message.key.length >= 4 && message.key.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (batch.inTransaction && abortedProducers.has(batch.producerId)) continue;
    records.push(toRecord(topic, data.partition, message as unknown as KafkaMessage));
  }
  return { records, next };
}

/**
 * Reads partitions forward from the beginning with read_committed fetches, handing out committed
 * records once each. A fetch returns nothing past an open transaction until it ends.
 */
class CommittedReader {
  private readonly cluster: InternalCluster;
  private readonly positions = new Map<string, bigint>();
  private partitions: Array<{ topic: string; partition: number; leader: number }> = [];

  constructor(
    kafka: Kafka,
    private readonly topics: string[],
  ) {
    this.cluster = internalCluster(kafka, READ_COMMITTED);
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
    await this.cluster.addMultipleTargetTopics(this.topics);
    this.partitions = this.topics.flatMap((topic) => this.cluster.findTopicPartitionMetadata(topic).map((p) => ({ topic, partition: p.partitionId, leader: p.leader })));
    const earliest = await this.cluster.fetchTopicsOffset(this.topics.map((topic) => ({ topic, fromBeginning: true, partitions: this.partitions.filter((p) => p.topic === topic) })));
    for (const { topic, partitions } of earliest) for (const p of partitions) this.positions.set(`${topic}|${p.partition}`, BigInt(p.offset));
  }

  position(id: string): bigint {
    return this.positions.get(id) ?? 0n;
  }

  get ids(): string[] {
    return this.partitions.map((p) => `${p.topic}|${p.partition}`);
  }

  /**
   * One fetch per leader for the partitions `wanted` accepts; resolves with the committed records
   * they returned. Leaders are connected one at a time: KafkaJS opens a socket for each concurrent
   * first connect to a broker and leaks all but one of them.
   */
  async poll(wanted: (id: string) => boolean = () => true, maxWaitTime = 100): Promise<CollectedRecord[]> {
    const byLeader = new Map<number, Array<{ topic: string; partition: number }>>();
    for (const p of this.partitions) {
      if (wanted(`${p.topic}|${p.partition}`)) byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), p]);
    }
    const brokers = new Map<number, Awaited<ReturnType<InternalCluster['findBroker']>>>();
    for (const leader of byLeader.keys()) brokers.set(leader, await this.cluster.findBroker({ nodeId: leader }));
    const batches = await Promise.all(
      [...byLeader].map(async ([leader, partitions]) => {
        const topics = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number }>>();
        for (const { topic, partition } of partitions) {
          const list = topics.get(topic) ?? [];
          list.push({ partition, fetchOffset: this.position(`${topic}|${partition}`).toString(), maxBytes: FETCH_MAX_BYTES });
          topics.set(topic, list);
        }
        const response = await brokers.get(leader)!.fetch({
          isolationLevel: READ_COMMITTED,
          maxWaitTime,
          minBytes: 1,
          maxBytes: FETCH_MAX_BYTES,
          topics: [...topics].map(([topic, list]) => ({ topic, partitions: list })),
        });
        return response.responses.flatMap(({ topicName: topic, partitions: answered }) =>
          answered.flatMap((data) => {
            const id = `${topic}|${data.partition}`;
            const from = this.position(id);
            if (data.errorCode !== 0) throw new Error(`fetch ${id} at ${from}: error code ${data.errorCode}`);
            const { records, next } = committedRecords(topic, data, from);
            this.positions.set(id, next);
            return records;
          }),
        );
      }),
    );
    return batches.flat();
  }

  disconnect(): Promise<void> {
    return this.cluster.disconnect();
  }
}

/**
 * Per partition of each topic (`topic|partition`), the high watermark: one past its last record,
 * transaction markers and records of open or aborted transactions included. Not
 * admin.fetchTopicOffsets: KafkaJS's admin asks ListOffsets for READ_COMMITTED (its default) and
 * gets the last stable offset, which stops short of an open transaction.
 */
export async function endOffsets(kafka: Kafka, topics: string[]): Promise<Map<string, number>> {
  const cluster = internalCluster(kafka, READ_UNCOMMITTED);
  await cluster.connect();
  try {
    await cluster.addMultipleTargetTopics(topics);
    const latest = await cluster.fetchTopicsOffset(
      topics.map((topic) => ({ topic, fromBeginning: false, partitions: cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })) })),
    );
    const ends = new Map<string, number>();
    for (const { topic, partitions } of latest) for (const p of partitions) ends.set(`${topic}|${p.partition}`, Number(p.offset));
    return ends;
  } finally {
    await cluster.disconnect();
  }
}

/**
 * Every committed record of `topics` below their high watermarks taken when the call starts. A
 * transaction still open then is waited for (nothing past it can be read before it ends); the call
 * throws when the end is not reached within the timeout. Records written after the high
 * watermarks were taken are left out, so what comes back is one snapshot. No consumer group.
 */
export async function readToEnd(kafka: Kafka, topics: string[], timeoutMs = 30_000): Promise<CollectedRecord[]> {
  const ends = await endOffsets(kafka, topics);
  const reader = new CommittedReader(kafka, topics);
  const deadline = Date.now() + timeoutMs;
  const records: CollectedRecord[] = [];
  await reader.connect();
  try {
    const unread = (id: string) => reader.position(id) < BigInt(ends.get(id) ?? 0);
    while (reader.ids.some(unread)) {
      if (Date.now() > deadline) {
        const behind = reader.ids.filter(unread).map((id) => `${id} at ${reader.position(id)} of ${ends.get(id)}`);
        throw new Error(`readToEnd: high watermarks not reached within ${timeoutMs} ms, a transaction still open? (${behind.join(', ')}); read ${records.length} records`);
      }
      for (const record of await reader.poll(unread)) {
        if (Number(record.offset) < (ends.get(`${record.topic}|${record.partition}`) ?? 0)) records.push(record);
      }
    }
    return records;
  } finally {
    await reader.disconnect();
  }
}

/**
 * Committed records of `topics` from the beginning, each handed to `onRecord` once as it comes,
 * until close(). For waiting on progress while workers run (the final count is readToEnd's).
 */
export class RecordWatcher {
  private readonly reader: CommittedReader;
  private checks: Array<() => void> = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    kafka: Kafka,
    topics: string[],
    private readonly onRecord: (record: CollectedRecord) => void,
  ) {
    this.reader = new CommittedReader(kafka, topics);
  }

  async start(): Promise<this> {
    await this.reader.connect();
    this.running = this.loop();
    return this;
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      try {
        for (const record of await this.reader.poll()) this.onRecord(record);
      } catch (error) {
        // A broker restart or a leader move: fetch again from the same positions.
        this.failure = error as Error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const check of this.checks) check();
    }
  }

  /** Resolves once `condition` holds (checked now and after every fetch); throws after the timeout with `describe()`. */
  until(condition: () => boolean, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        const last = this.failure ? `; last fetch error: ${this.failure.message}` : '';
        reject(new Error(`condition not met within ${timeoutMs} ms ${describe()}${last}`.trim()));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.checks = this.checks.filter((c) => c !== check);
      };
      this.checks.push(check);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    await this.reader.disconnect();
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
