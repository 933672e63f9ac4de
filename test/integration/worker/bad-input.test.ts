import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { DLQ_HEADERS, type DlqReference } from '../../../src/pipeline/dead-letter';
import { readToEnd } from '../../support/kafka';
import { request, terminal, WorkerHarness } from '../../support/worker-harness';

describe('worker: bad input loses nothing and stalls nothing', () => {
  const h = new WorkerHarness('badinput', 1);

  beforeAll(async () => {
    await h.setup();
    await h.startWorker({ MAX_RECORD_BYTES: '4096' });
  });
  afterAll(() => h.teardown());

  it('routes each undecodable kind to the DLQ with key, value and headers untouched, and keeps going', async () => {
    const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    const unknownSchema = Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 0x02, 0x04]);
    const truncated = h.codec.encode('CaptureRequested', request('pay-trunc')).subarray(0, 9);
    const valid = request('pay-after-bad');
    const tooLarge = h.codec.encode('CaptureRequested', request('pay-big', '100', 'HKD', { note: 'x'.repeat(10_000) }));
    // Random bytes do not compress: its DLQ copy must be a reference to the original.
    const incompressible = h.codec.encode('CaptureRequested', request('pay-random', '100', 'HKD', { note: randomBytes(6_000).toString('base64') }));
    await h.produce([
      { key: 'garbage', value: garbage, headers: { trace: 't-1' } },
      { key: 'unknown-schema', value: unknownSchema },
      { key: 'null-value', value: null },
      { key: null, value: request('pay-no-key') },
      { key: 'truncated', value: truncated },
      { key: 'too-large', value: tooLarge },
      { key: 'too-large-random', value: incompressible },
      { key: 'good-after-bad', value: valid },
    ]);
    const dlq = await h.dlq(7);
    const byKey = new Map(dlq.map((r) => [r.key?.toString() ?? '(none)', r]));
    expect(byKey.get('garbage')).toMatchObject({
      value: garbage,
      headers: expect.objectContaining({ trace: 't-1', [DLQ_HEADERS.reason]: 'NOT_CONFLUENT_AVRO', [DLQ_HEADERS.topic]: h.topics.requested, [DLQ_HEADERS.offset]: '0' }),
    });
    expect(byKey.get('unknown-schema')).toMatchObject({ value: unknownSchema, headers: expect.objectContaining({ [DLQ_HEADERS.reason]: 'UNKNOWN_SCHEMA_ID' }) });
    expect(byKey.get('null-value')).toMatchObject({ value: null, headers: expect.objectContaining({ [DLQ_HEADERS.reason]: 'NOT_CONFLUENT_AVRO' }) });
    expect(byKey.get('(none)')?.headers[DLQ_HEADERS.reason]).toBe('MISSING_KEY');
    // The keyless record's value arrives byte for byte: it still decodes to the request sent.
    expect((await h.codec.decode('CaptureRequested', byKey.get('(none)')!.value)).paymentId).toBe('pay-no-key');
    expect(byKey.get('truncated')).toMatchObject({ value: truncated, headers: expect.objectContaining({ [DLQ_HEADERS.reason]: 'MALFORMED_AVRO' }) });

    // Copies over MAX_RECORD_BYTES are gzipped (the original bytes come back), or referenced.
    const large = byKey.get('too-large')!;
    expect({ reason: large.headers[DLQ_HEADERS.reason], encoding: large.headers[DLQ_HEADERS.encoding] }).toEqual({ reason: 'RECORD_TOO_LARGE', encoding: 'gzip' });
    expect(gunzipSync(large.value!).equals(tooLarge)).toBe(true);
    const random = byKey.get('too-large-random')!;
    expect({ reason: random.headers[DLQ_HEADERS.reason], encoding: random.headers[DLQ_HEADERS.encoding] }).toEqual({ reason: 'RECORD_TOO_LARGE', encoding: 'reference' });
    expect(JSON.parse(random.value!.toString()) as DlqReference).toMatchObject({ topic: h.topics.requested, partition: 0, offset: '6', valueBytes: incompressible.length });

    const [outcome] = await h.outcomes((all) => all.some((o) => o.key === 'good-after-bad'));
    expect(outcome).toMatchObject({ key: 'good-after-bad', topic: 'succeeded' });
    // None of the undecodable records reached the API.
    expect(h.sandbox.stats().calls).toBe(1);
  });

  it('sends keys that are not valid UTF-8, out-of-range retry headers and an unparseable writer schema to the DLQ within seconds, without a call', async () => {
    h.sandbox.reset();
    // Two keys that differ only in invalid bytes: a lenient decode would make them one captureRequestId.
    const keyA = Buffer.concat([Buffer.from('utf8-'), Buffer.from([0xff])]);
    const keyB = Buffer.concat([Buffer.from('utf8-'), Buffer.from([0xfe])]);
    const schema = JSON.stringify({ type: 'record', name: 'Unreadable', fields: [{ name: 'a', type: ['null', 'string'], default: 'x' }] });
    const res = await fetch(`${process.env.SCHEMA_REGISTRY_URL ?? ''}/subjects/${h.topics.requested}.unreadable-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    const { id } = (await res.json()) as { id: number };
    const unreadable = Buffer.alloc(6);
    unreadable.writeUInt32BE(id, 1);
    const started = Date.now();
    await h.produce([
      { key: keyA, value: request('pay-utf8-a') },
      { key: keyB, value: request('pay-utf8-b') },
      { key: 'unreadable-schema', value: unreadable },
      { key: 'good-after-poison', value: request('pay-after-poison') },
    ]);
    const outOfRange = { 'capture-attempt': '2147483648', 'capture-due-at': '99999999999999999', 'capture-first-attempt-at': '0' };
    await h.produce([{ key: 'retry-out-of-range', value: request('pay-retry-range'), headers: outOfRange }], `${h.topics.retry}.1s`);
    // The first test left 7 DLQ records.
    await h.dlq(7 + 4, 30_000);
    await h.outcomes((all) => all.some((o) => o.key === 'good-after-poison'));
    // The verdict reads the DLQ and the outcome topics to their end offsets: a late second copy would show.
    const dlq = await readToEnd(h.kafka, [h.topics.dlq]);
    expect(dlq).toHaveLength(7 + 4);
    const reasonOf = (key: Buffer | string) => dlq.find((r) => r.key?.equals(Buffer.isBuffer(key) ? key : Buffer.from(key)))?.headers[DLQ_HEADERS.reason];
    expect([reasonOf(keyA), reasonOf(keyB), reasonOf('unreadable-schema'), reasonOf('retry-out-of-range')]).toEqual(['INVALID_KEY', 'INVALID_KEY', 'UNREADABLE_WRITER_SCHEMA', 'BAD_RETRY_HEADERS']);
    expect((await h.codec.decode('CaptureRequested', dlq.find((r) => r.key?.equals(keyB))!.value)).paymentId).toBe('pay-utf8-b');
    const mine = (await h.allOutcomes()).filter((o) => o.key === 'good-after-poison');
    expect(mine.map((o) => o.topic)).toEqual(['succeeded']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(h.sandbox.stats().calls).toBe(1);
  });

  it('answers an invalid request with PARAM_ILLEGAL naming the field, without calling the API', async () => {
    h.sandbox.reset();
    const cases = [
      { key: 'k'.repeat(65), value: request('pay-long-key'), field: 'captureRequestId' },
      { key: 'bad-currency', value: request('pay-x', '100', 'hkd'), field: 'captureAmount.currency' },
      { key: 'not-integer', value: request('pay-x', '10.5'), field: 'captureAmount.value' },
      { key: 'negative', value: request('pay-x', '-5'), field: 'captureAmount.value' },
      { key: 'zero', value: request('pay-x', '0'), field: 'captureAmount.value' },
      { key: 'empty-payment', value: request(''), field: 'paymentId' },
      { key: 'long-payment', value: request('p'.repeat(65)), field: 'paymentId' },
    ];
    await h.produce(cases.map(({ key, value }) => ({ key, value })));
    const outcomes = terminal(await h.outcomes((all) => cases.every((c) => all.some((o) => o.key === c.key))));
    for (const c of cases) {
      const outcome = outcomes.find((o) => o.key === c.key)!;
      expect(outcome.topic).toBe('failed');
      expect(outcome.event.result).toMatchObject({ resultStatus: 'F', resultCode: 'PARAM_ILLEGAL', local: true });
      expect(outcome.event.result.resultMessage).toContain(c.field);
    }
    expect(h.sandbox.stats().calls).toBe(0);
  });
});
