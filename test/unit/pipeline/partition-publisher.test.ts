import type { Producer } from 'kafkajs';
import { PartitionProgress } from '../../../src/pipeline/partition-progress';
import { PartitionPublisher } from '../../../src/pipeline/partition-publisher';

/** Records what each transaction carried; a stand-in for the broker, for the batching logic only. */
function recordingProducer(failOn?: number) {
  const transactions: Array<{ messages: number; bytes: number; offsets: unknown[] }> = [];
  const producer = {
    transaction: async () => {
      const current = { messages: 0, bytes: 0, offsets: [] as unknown[] };
      return {
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Array<{ value: Buffer }> }> }) => {
          for (const t of topicMessages)
            for (const m of t.messages) {
              current.messages++;
              current.bytes += m.value.length;
            }
        },
        sendOffsets: async ({ topics }: { topics: unknown[] }) => {
          current.offsets.push(...topics);
        },
        commit: async () => {
          if (transactions.length === failOn) throw Object.assign(new Error('fenced'), { type: 'INVALID_PRODUCER_EPOCH' });
          transactions.push(current);
        },
        abort: async () => undefined,
      };
    },
  } as unknown as Producer;
  return { producer, transactions };
}

describe('PartitionPublisher', () => {
  it("cuts transactions by bytes as well as by count, never leaves a large record out, and commits only its partition's offset", async () => {
    const { producer, transactions } = recordingProducer();
    const progress = new PartitionProgress(0);
    const publisher = new PartitionPublisher(
      producer,
      { topic: 'in', partition: 5 },
      progress,
      { groupId: 'g', maxRecords: 100, maxBytes: 1000, lingerMs: 1 },
      { onTransaction: () => undefined, onCommit: () => undefined, onFailure: () => undefined },
    );
    const sizes = [400, 400, 400, 5000, 10];
    for (let offset = 0; offset < sizes.length; offset++) progress.dispatch(offset);
    const results = await Promise.all(sizes.map((n, offset) => publisher.publish(offset, [{ topic: 'out', message: { value: Buffer.alloc(n) } }])));
    expect(results).toEqual([true, true, true, true, true]);
    expect(transactions.map((t) => t.bytes)).toEqual([800, 400, 5000, 10]);
    expect(transactions.map((t) => t.offsets)).toEqual([2, 3, 4, 5].map((offset) => ({ topic: 'in', partitions: [{ partition: 5, offset: String(offset), metadata: '' }] })).map((o) => [o]));
  });

  it('after a fenced commit it reports the failure once, drops what is queued and publishes nothing more', async () => {
    const { producer, transactions } = recordingProducer(0);
    const progress = new PartitionProgress(0);
    const failures: boolean[] = [];
    const publisher = new PartitionPublisher(
      producer,
      { topic: 'in', partition: 0 },
      progress,
      { groupId: 'g', maxRecords: 1, maxBytes: 1000, lingerMs: 1 },
      { onTransaction: () => undefined, onCommit: () => undefined, onFailure: (_e, fenced) => failures.push(fenced) },
    );
    for (let offset = 0; offset < 3; offset++) progress.dispatch(offset);
    const results = await Promise.all([0, 1, 2].map((offset) => publisher.publish(offset, [{ topic: 'out', message: { value: Buffer.alloc(1) } }])));
    expect(results).toEqual([false, false, false]);
    expect(failures).toEqual([true]);
    expect(await publisher.publish(3, [])).toBe(false);
    expect(transactions).toEqual([]);
  });
});
