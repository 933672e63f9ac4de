import type { Kafka, Message, Producer } from 'kafkajs';
import { loadConfig } from '../config/config';
import { withAdmin } from './admin';
import { connectCli } from './connect';
import { dlqEntry, FORCE_REASONS, originalMessage, ReplayRefused } from './dlq-records';
import { partitionId, readTopics, type ReadRecord } from './topic-reader';
import { parseCommand, parseSince, UsageError } from './usage';

export const dlqReplayCommand = {
  name: 'dlq replay',
  usage: `usage: capture-worker dlq replay --reason REASON [--since TIME] [--to TOPIC] [--dry-run] [--force]
  Re-publishes each DLQ record with dlq-reason REASON (its original key, value and headers, without
  the dlq-* ones; a gzipped copy is gunzipped) to TOPIC (default TOPIC_REQUESTED), once: the DLQ
  offsets read are committed in the same transaction, for consumer group <GROUP_ID>.dlq-replay.REASON
  (also the transactional id), so a second run starts where the first ended and a reason replayed
  later still finds its records. Needs the worker's configuration (GROUP_ID, topics).
  --since TIME   skip records written before TIME (ISO-8601 or epoch ms); they are passed over for good
  --to TOPIC     publish there instead of TOPIC_REQUESTED
  --dry-run      print what would be replayed; publish and commit nothing
  --force        required for ${Object.keys(FORCE_REASONS).join(' and ')}
  Records whose value is a reference (dlq-value-encoding: reference) are not replayed: the value
  is not in the DLQ, the original stays at its source coordinates. Exit 1 when any was refused.`,
  options: { reason: { type: 'string' }, since: { type: 'string' }, to: { type: 'string' }, 'dry-run': { type: 'boolean' }, force: { type: 'boolean' } },
} as const;

/** Records per transaction: bounded, so a large DLQ needs no large transaction. */
const BATCH = 500;

export interface ReplayResult {
  replayed: number;
  refused: number;
}

/** `capture-worker dlq replay`: see the usage above. Progress lines go to stderr, one per record. */
export async function runDlqReplay(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ReplayResult | undefined> {
  const values = parseCommand(dlqReplayCommand, args);
  if (!values) return undefined;
  const reason = values.reason;
  if (!reason) throw new UsageError('--reason is required', 'dlq replay');
  if (FORCE_REASONS[reason] && !values.force) throw new UsageError(`${reason} records are replayed only with --force: ${FORCE_REASONS[reason]}`, 'dlq replay');
  const since = values.since === undefined ? undefined : parseSince(values.since, 'dlq replay');
  const config = loadConfig(env);
  const dlq = config.topics.dlq;
  const target = values.to ?? config.topics.requested;
  const groupId = `${config.kafka.groupId}.dlq-replay.${reason}`;
  const { kafka, clientId } = await connectCli('capture-worker-dlq-replay', env);

  // One transactional id per group: a run fences the one before it for the same reason.
  const producer = values['dry-run'] ? undefined : await fencedProducer(kafka, groupId);
  const result: ReplayResult = { replayed: 0, refused: 0 };
  try {
    // Read only after the fence: a previous run's last commit is then complete, offsets included.
    const from = await committed(kafka, groupId, dlq);
    let batch: Array<{ record: ReadRecord; message: Message }> = [];
    const positions = new Map<number, number>();
    const commit = async (offsets: Map<number, number>) => {
      if (producer)
        await publish(
          producer,
          target,
          batch.map((b) => b.message),
          { groupId, topic: dlq, offsets },
        );
      result.replayed += batch.length;
      batch = [];
    };
    const ends = await readTopics(kafka, { topics: [dlq], groupPrefix: clientId, from, since }, async (record) => {
      positions.set(record.partition, Number(record.offset) + 1);
      const entry = dlqEntry(record);
      if (entry.reason !== reason) return;
      try {
        batch.push({ record, message: originalMessage(record) });
      } catch (error) {
        if (!(error instanceof ReplayRefused)) throw error;
        result.refused++;
        console.error(`not replayed: ${dlq}[${record.partition}]@${record.offset} key ${entry.key ?? '(none)'}: ${error.message}`);
        return;
      }
      console.error(
        `${values['dry-run'] ? 'would replay' : 'replaying'} ${dlq}[${record.partition}]@${record.offset} key ${entry.key ?? '(none)'} (from ${entry.source.topic}[${entry.source.partition}]@${entry.source.offset}) to ${target}`,
      );
      if (batch.length >= BATCH) await commit(new Map(positions));
    });
    // The last transaction also moves the group over the records that did not match, up to the end.
    const final = new Map([...ends].map(([id, end]) => [Number(id.split('|').pop()), end]));
    if (batch.length > 0 || [...final].some(([p, end]) => end > (from.get(partitionId(dlq, p)) ?? 0))) await commit(final);
  } finally {
    await producer?.disconnect();
  }
  console.error(`${values['dry-run'] ? 'would replay' : 'replayed'} ${result.replayed} ${reason} record(s) to ${target}${result.refused ? `; refused ${result.refused}` : ''}`);
  return result;
}

/**
 * A transactional producer that has fenced any earlier run with the same id: InitProducerId
 * aborts its open transaction and waits until its last commit is complete.
 */
async function fencedProducer(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await (await producer.transaction()).abort();
  } catch (error) {
    await producer.disconnect();
    throw error;
  }
  return producer;
}

/** The group's committed DLQ offsets by `topic|partition`; none before the first replay. */
async function committed(kafka: Kafka, groupId: string, topic: string): Promise<Map<string, number>> {
  const offsets = (await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }))).at(0);
  return new Map((offsets?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [partitionId(topic, p.partition), Number(p.offset)]));
}

/** The messages and the DLQ offsets they came from, committed together or not at all. */
async function publish(producer: Producer, topic: string, messages: Message[], offsets: { groupId: string; topic: string; offsets: Map<number, number> }): Promise<void> {
  const transaction = await producer.transaction();
  try {
    if (messages.length > 0) await transaction.send({ topic, messages });
    await transaction.sendOffsets({
      consumerGroupId: offsets.groupId,
      topics: [{ topic: offsets.topic, partitions: [...offsets.offsets].map(([partition, offset]) => ({ partition, offset: String(offset) })) }],
    });
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => undefined);
    throw error;
  }
}
