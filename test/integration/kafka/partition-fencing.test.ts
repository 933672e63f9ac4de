import { KafkaMessage } from 'kafkajs';
import { createLogger } from '../../../src/observability/logger';
import { PartitionOwner, type OwnerContext } from '../../../src/pipeline/partition-owner';
import { createTopics, readToEnd, testKafka, uniqueTopics } from '../../support/kafka';

/**
 * Two owners of one partition, as two instances would be across a stall: the one that opens
 * later fences the earlier one, which then publishes nothing, and the later one starts from what
 * the earlier one committed before it was fenced.
 */
describe('per-partition transactional producers fence the previous owner', () => {
  const kafka = testKafka();
  const topics = uniqueTopics('fence');
  const admin = kafka.admin();
  const owners: PartitionOwner[] = [];

  const context = (): OwnerContext => ({
    kafka,
    admin,
    transactionalIdPrefix: topics.group,
    publisher: { groupId: topics.group, maxRecords: 100, maxBytes: 1 << 20, lingerMs: 1 },
    logger: createLogger('silent'),
    onCommit: () => undefined,
    onTransaction: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    onEnded: () => undefined,
  });
  const open = async (): Promise<PartitionOwner> => {
    const owner = new PartitionOwner(topics.requested, 0, context());
    owners.push(owner);
    await owner.opened;
    return owner;
  };
  const message = (offset: number): KafkaMessage => ({ offset: String(offset), key: Buffer.from(`k${offset}`), value: Buffer.from('v'), timestamp: '0', attributes: 0, headers: {} });
  const output = (owner: string, offset: number) => [{ topic: topics.succeeded, message: { key: `k${offset}`, value: `${owner}-${offset}` } }];

  beforeAll(async () => {
    await admin.connect();
    await createTopics(admin, [topics.requested, topics.succeeded], 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.requested, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'v' })) });
    await producer.disconnect();
  });
  afterAll(async () => {
    for (const owner of owners) await owner.end('closed');
    await admin.disconnect();
  });

  it("the old owner's commits after the new owner opened fail as fenced and publish nothing; the new owner starts after what the old one committed", async () => {
    const first = await open();
    expect(first.progress.startOffset).toBe(0);
    const committed = await Promise.all([0, 1, 2].map((offset) => first.dispatch(message(offset))!.complete(output('first', offset))));
    expect(committed).toEqual([true, true, true]);
    // Dispatched before the takeover, completed after it: these are the zombie's late results.
    const late = [3, 4].map((offset) => first.dispatch(message(offset))!);

    const second = await open();
    expect(second.progress.startOffset).toBe(3);
    expect(await Promise.all(late.map((handle, i) => handle.complete(output('first', 3 + i))))).toEqual([false, false]);
    expect(first.state).toBe('fenced');
    expect(first.active).toBe(false);

    expect(await second.dispatch(message(3))!.complete(output('second', 3))).toBe(true);
    const values = (await readToEnd(kafka, [topics.succeeded])).map((r) => r.value?.toString());
    expect(values).toEqual(['first-0', 'first-1', 'first-2', 'second-3']);
  });

  it('a revoked owner publishes nothing, even for records it had dispatched', async () => {
    const owner = await open();
    const start = owner.progress.startOffset;
    const handle = owner.dispatch(message(start))!;
    await owner.end('revoked');
    expect(await handle.complete(output('revoked', start))).toBe(false);
    expect(owner.dispatch(message(start + 1))).toBeUndefined();
    const values = (await readToEnd(kafka, [topics.succeeded])).map((r) => r.value?.toString());
    expect(values.filter((v) => v?.startsWith('revoked'))).toEqual([]);
  });
});
