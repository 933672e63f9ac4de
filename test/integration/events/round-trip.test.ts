import type { EventName } from '../../../src/events/contract';
import type { EventTypes } from '../../../src/events/event-codec';
import { EventRegistry } from '../../../src/events/registry';
import { createTopics, readToEnd, registryUrl, testKafka, uniqueTopics } from '../../support/kafka';

const amount = { currency: 'HKD', value: '1999' };
const result = { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success.', local: false };
const base = {
  captureRequestId: 'cr-1',
  paymentId: 'pay-1',
  captureAmount: amount,
  requestedAt: 1_764_000_000_123,
  metadata: { order: 'o-9' },
  attempt: 2,
  firstAttemptAt: 1_764_000_001_000,
  completedAt: 1_764_000_002_000,
};

const samples: { [N in EventName]: EventTypes[N] } = {
  CaptureRequested: { paymentId: 'pay-1', captureAmount: amount, requestedAt: 1_764_000_000_123, metadata: { order: 'o-9', ünïcode: '✓' } },
  CaptureSucceeded: { ...base, result, captureId: 'cap-77', captureTime: '2026-11-26T12:01:01+08:00', acquirerReferenceNo: null },
  CaptureFailed: { ...base, result: { resultStatus: 'F', resultCode: 'RISK_REJECT', resultMessage: 'rejected', local: false } },
  CaptureUnknown: { ...base, result: { resultStatus: 'U', resultCode: 'LOCAL_TIMEOUT', resultMessage: 'no answer in 10000 ms', local: true }, nextAttemptAt: 1_764_000_009_000, final: false },
};

describe('event schemas round-trip through the real registry and broker', () => {
  const kafka = testKafka();
  const topics = uniqueTopics('roundtrip');
  const registry = EventRegistry.forUrl(registryUrl());
  const { codec } = registry;
  afterAll(() => registry.close());

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await createTopics(
      admin,
      Object.keys(samples).map((name) => `${topics.requested}.${name}`),
      1,
    );
    await admin.disconnect();
  });

  it.each(Object.keys(samples) as EventName[])('%s: encode → produce → consume → decode is deep-equal', async (name) => {
    const topic = `${topics.requested}.${name}`;
    const id = await codec.useSubject(name, topic);
    expect(id).toBeGreaterThan(0);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'cr-1', value: codec.encode(name, samples[name]) }] });
    await producer.disconnect();

    const [record] = await readToEnd(kafka, [topic]);
    expect(record.key?.toString()).toBe('cr-1');
    expect(record.value?.readUInt32BE(1)).toBe(id);
    expect(await codec.decode(name, record.value)).toEqual(samples[name]);
  });

  it('refuses bytes that are not Confluent Avro, and a schema id the registry does not know', async () => {
    await expect(codec.decode('CaptureRequested', Buffer.from('not avro at all'))).rejects.toMatchObject({ reason: 'NOT_CONFLUENT_AVRO' });
    await expect(codec.decode('CaptureRequested', null)).rejects.toMatchObject({ reason: 'NOT_CONFLUENT_AVRO' });
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 3]);
    await expect(codec.decode('CaptureRequested', unknownId)).rejects.toMatchObject({ reason: 'UNKNOWN_SCHEMA_ID' });
  });

  it('refuses a record written with a schema that cannot be read as the expected event', async () => {
    const topic = `${topics.requested}.CaptureFailed`;
    await codec.useSubject('CaptureFailed', topic);
    const failedBytes = codec.encode('CaptureFailed', samples.CaptureFailed);
    // CaptureFailed has no field `final`, so it cannot be read as CaptureUnknown.
    await expect(codec.decode('CaptureUnknown', failedBytes)).rejects.toMatchObject({ reason: 'INCOMPATIBLE_SCHEMA' });
  });

  it('gives up on a writer schema the registry accepts but that cannot be parsed after a few tries, instead of retrying for ever', async () => {
    // Registries accept this; Avro readers refuse it: a union default must match the union's first branch.
    const schema = JSON.stringify({ type: 'record', name: 'Unreadable', fields: [{ name: 'a', type: ['null', 'string'], default: 'x' }] });
    const res = await fetch(`${registryUrl()}/subjects/${topics.requested}.unreadable-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    const bytes = Buffer.alloc(7);
    bytes.writeUInt32BE(id, 1);
    const fresh = EventRegistry.forUrl(registryUrl()).codec;
    const attempts: unknown[] = [];
    for (let i = 0; i < 3; i++) attempts.push(await fresh.decode('CaptureRequested', bytes).catch((error: unknown) => error));
    expect(attempts.map((e) => (e as { reason?: string }).reason)).toEqual([undefined, undefined, 'UNREADABLE_WRITER_SCHEMA']);
  });
});
