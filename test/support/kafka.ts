import { randomUUID } from 'node:crypto';
import { Admin, Consumer, EachMessagePayload, Kafka } from 'kafkajs';
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

export async function createTopics(admin: Admin, topics: string[], numPartitions = 3): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })) });
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
export async function collect(
  kafka: Kafka,
  topics: string[],
  done: (records: CollectedRecord[]) => boolean,
  timeoutMs = 60_000,
): Promise<CollectedRecord[]> {
  const records: CollectedRecord[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: `collector-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => (resolveDone = resolve));
    await consumer.run({
      eachMessage: async ({ topic, partition, message }: EachMessagePayload) => {
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
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
