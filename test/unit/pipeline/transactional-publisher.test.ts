import type { Producer } from 'kafkajs';
import { PartitionProgress } from '../../../src/pipeline/partition-progress';
import { TransactionalPublisher } from '../../../src/pipeline/transactional-publisher';

/** Records what each transaction carried; a stand-in for the broker, for the batching logic only. */
function recordingProducer() {
  const transactions: Array<{ messages: number; bytes: number; offsets: unknown[] }> = [];
  const producer = {
    transaction: async () => {
      const current = { messages: 0, bytes: 0, offsets: [] as unknown[] };
      return {
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ messages: Array<{ value: Buffer }> }> }) => {
          for (const t of topicMessages) for (const m of t.messages) {
            current.messages++;
            current.bytes += m.value.length;
          }
        },
        sendOffsets: async ({ topics }: { topics: unknown[] }) => {
          current.offsets.push(...topics);
        },
        commit: async () => {
          transactions.push(current);
        },
        abort: async () => undefined,
      };
    },
  } as unknown as Producer;
  return { producer, transactions };
}

describe('TransactionalPublisher batching', () => {
  it('cuts transactions by bytes as well as by count, and never leaves a large record out', async () => {
    const { producer, transactions } = recordingProducer();
    const publisher = new TransactionalPublisher(producer, { groupId: 'g', maxRecords: 100, maxBytes: 1000, lingerMs: 1 });
    const progress = new PartitionProgress('t', 0);
    const sizes = [400, 400, 400, 5000, 10];
    for (let offset = 0; offset < sizes.length; offset++) progress.dispatch(offset);
    await Promise.all(sizes.map((n, offset) => publisher.publish({ progress, offset, messages: [{ topic: 'out', message: { value: Buffer.alloc(n) } }] })));
    expect(transactions.map((t) => t.bytes)).toEqual([800, 400, 5000, 10]);
    expect(transactions.every((t) => t.offsets.length === 1)).toBe(true);
  });
});
