import { randomUUID } from 'node:crypto';
import { createTopics, readToEnd, testKafka, uniqueTopics } from '../../support/kafka';
import { sleep } from '../../../src/util/sleep';

/** Proves the chosen broker version supports what the worker relies on: KafkaJS transactions. */
describe('KafkaJS transactions against the real broker', () => {
  const kafka = testKafka();
  const topics = uniqueTopics('txn');

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(admin, [topics.requested, topics.succeeded], 2);
    await admin.disconnect();
  });

  it('an aborted transaction leaves nothing visible to a read_committed consumer; a committed one is seen once', async () => {
    const producer = kafka.producer({ transactionalId: `txn-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send({
      topic: topics.succeeded,
      messages: [
        { key: 'a', value: 'aborted-1' },
        { key: 'b', value: 'aborted-2' },
      ],
    });
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send({ topic: topics.succeeded, messages: [{ key: 'c', value: 'committed' }] });
    await committed.commit();
    await producer.disconnect();

    // Read to the end offsets: the aborted records and both markers lie below them.
    const seen = await readToEnd(kafka, [topics.succeeded]);
    expect(seen.map((r) => r.value?.toString())).toEqual(['committed']);
  });

  it('consumed offsets sent inside a transaction commit with it, and not when it aborts', async () => {
    const groupId = `${topics.group}-eos`;
    const setup = kafka.producer();
    await setup.connect();
    await setup.send({ topic: topics.requested, messages: [{ key: 'k', value: 'input', partition: 0 }] });
    await setup.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ transactionalId: `txn-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const offsets = { consumerGroupId: groupId, topics: [{ topic: topics.requested, partitions: [{ partition: 0, offset: '1' }] }] };

    const aborted = await producer.transaction();
    await aborted.sendOffsets(offsets);
    await aborted.abort();
    const afterAbort = await admin.fetchOffsets({ groupId, topics: [topics.requested] });
    expect(afterAbort[0].partitions.find((p) => p.partition === 0)?.offset).toBe('-1');

    const committed = await producer.transaction();
    await committed.send({ topic: topics.succeeded, messages: [{ key: 'k', value: 'output' }] });
    await committed.sendOffsets(offsets);
    await committed.commit();
    // The coordinator materialises transactional offsets when it writes the commit marker.
    let committedOffset: string | undefined;
    for (let i = 0; i < 50 && committedOffset !== '1'; i++) {
      const afterCommit = await admin.fetchOffsets({ groupId, topics: [topics.requested] });
      committedOffset = afterCommit[0].partitions.find((p) => p.partition === 0)?.offset;
      if (committedOffset !== '1') await sleep(100);
    }
    expect(committedOffset).toBe('1');

    await producer.disconnect();
    await admin.disconnect();
  });
});
