import { randomUUID } from 'node:crypto';
import type { Admin, IHeaders, Kafka } from 'kafkajs';
import { withAdmin } from './admin';
import { errorMessage } from '../util/errors';

/** One committed record as read. Header values stay bytes: replay sends them back unchanged. */
export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Epoch milliseconds, as a string (KafkaJS's form). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface ReadOptions {
  topics: string[];
  /** The reader's consumer group is `<groupPrefix>-<random>` (the client id: whose group it was, if one is left). */
  groupPrefix: string;
  /** Start at the first record at or after this time (epoch ms) instead of the earliest. */
  since?: number;
  /** Per `topic|partition`, an offset to start at (e.g. a group's committed one); the later of it and `since` wins. */
  from?: Map<string, number>;
  /** Keep reading past the end offsets until `stop` resolves. */
  follow?: boolean;
  stop?: Promise<void>;
}

export const partitionId = (topic: string, partition: number) => `${topic}|${partition}`;

interface Span {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

/**
 * Where each partition starts and ends. The end is the last stable offset at the time of the
 * call (KafkaJS's admin asks read_committed): a read_committed fetch returns nothing beyond it
 * until open transactions end, and records of those are not committed yet.
 */
async function spans(admin: Admin, options: ReadOptions): Promise<Span[]> {
  const result: Span[] = [];
  for (const topic of options.topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const since = options.since === undefined ? undefined : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, options.since)).map((p) => [p.partition, Number(p.offset)]));
    for (const p of ends) {
      const start = Math.max(Number(p.low), since?.get(p.partition) ?? 0, options.from?.get(partitionId(topic, p.partition)) ?? 0);
      result.push({ topic, partition: p.partition, start, end: Number(p.high) });
    }
  }
  return result;
}

/**
 * Hands every committed record of `topics` to `onRecord`, in offset order per partition, from the
 * start positions to the end offsets taken at the call (or on, with `follow`). Returns the end
 * offsets. A partition is done when the consumer's position passes its end, not when a record at
 * end-1 was seen: a partition can end in a transaction marker or an aborted transaction. The
 * consumer's group has a random id, each join seeks to the start offsets, nothing is committed,
 * and the group is deleted afterwards.
 */
export async function readTopics(kafka: Kafka, options: ReadOptions, onRecord: (record: ReadRecord) => void | Promise<void>): Promise<Map<string, number>> {
  const groupId = `${options.groupPrefix}-${randomUUID()}`;
  return withAdmin(kafka, async (admin) => {
    const all = await spans(admin, options);
    const ends = new Map(all.map((s) => [partitionId(s.topic, s.partition), s.end]));
    const pending = new Set(all.filter((s) => s.start < s.end).map((s) => partitionId(s.topic, s.partition)));
    if (!options.follow && pending.size === 0) return ends;
    try {
      await consume(kafka, groupId, options, all, pending, onRecord);
    } finally {
      await admin.deleteGroups([groupId]).catch((error: unknown) => console.error(`warning: could not delete consumer group ${groupId}: ${errorMessage(error)}`));
    }
    return ends;
  });
}

async function consume(kafka: Kafka, groupId: string, options: ReadOptions, all: Span[], pending: Set<string>, onRecord: (record: ReadRecord) => void | Promise<void>): Promise<void> {
  const ends = new Map(all.map((s) => [partitionId(s.topic, s.partition), s.end]));
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  let failed = false;
  // Emitted after every batch, also those of control records or aborted records only, which eachBatch never sees.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const id = partitionId(payload.topic, payload.partition);
    if (Number(payload.lastOffset) + 1 >= (ends.get(id) ?? 0)) pending.delete(id);
    if (!options.follow && pending.size === 0) finish();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  // Emitted before the first fetch of each generation. Not admin.setOffsets: it runs a consumer
  // of its own that waits out a whole fetch (5 s) per topic.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const s of all) consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.start) });
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: options.topics });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(partitionId(batch.topic, batch.partition)) ?? 0;
        for (const m of batch.messages) {
          // Without --follow the output is one snapshot: nothing written after the start.
          if (failed || (!options.follow && Number(m.offset) >= end)) break;
          try {
            await onRecord({ topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers ?? {} });
          } catch (error) {
            // Not thrown to KafkaJS: it would retry the batch and hand out its records again.
            failed = true;
            fail(error as Error);
          }
        }
      },
    });
    await (options.follow ? Promise.race([done, options.stop ?? new Promise<void>(() => undefined)]) : done);
  } finally {
    await consumer.disconnect();
  }
}

/** Header values as UTF-8 text (a repeated header: its last value), for output and for the dlq-* headers. */
export function headerText(headers: IHeaders): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) text[name] = last.toString();
  }
  return text;
}
