import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { topicNames } from '../config/config';
import { EventCodec } from '../events/event-codec';
import type { EventName } from '../events/schema-files';
import { connectCli } from './connect';

/**
 * `capture-worker tail [--key ID] [--follow]`: committed outcome events as JSON lines. Without
 * --follow it stops once it has read up to the end offsets it saw at start.
 */
export async function runTail(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { key: { type: 'string' }, follow: { type: 'boolean', default: false } } });
  const topics = topicNames();
  const byTopic = new Map<string, EventName>([
    [topics.succeeded, 'CaptureSucceeded'],
    [topics.failed, 'CaptureFailed'],
    [topics.unknown, 'CaptureUnknown'],
  ]);
  const { kafka, registry } = await connectCli('capture-worker-tail');
  const codec = EventCodec.forRegistry(registry);
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>();
  for (const topic of byTopic.keys()) {
    for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > Number(p.low)) remaining.set(`${topic}|${p.partition}`, Number(p.high));
  }
  await admin.disconnect();

  const consumer = kafka.consumer({ groupId: `capture-worker-tail-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const caughtUp = () => !values.follow && remaining.size === 0;
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const key = message.key?.toString() ?? null;
      if (!values.key || values.key === key) {
        const event = await codec.decode(byTopic.get(topic)!, message.value);
        process.stdout.write(`${JSON.stringify({ topic, key, event })}\n`);
      }
      const id = `${topic}|${partition}`;
      // The high watermark may sit past a transaction marker, one offset beyond the last record.
      if (Number(message.offset) + 2 >= (remaining.get(id) ?? 0)) remaining.delete(id);
      if (caughtUp()) finish();
    },
  });
  if (!caughtUp()) await finished;
  await consumer.disconnect();
}
