import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { EventCodec } from '../../../src/events/event-codec';
import { readSchema } from '../../../src/events/schema-files';

/** The codec's cache over a registry stand-in that answers 404 until the schema "replicates". */
describe('EventCodec: a registry that did not know a schema id yet', () => {
  afterEach(() => jest.useRealTimers());

  it('forgets the refusal after 30 s, so a lagging replica does not condemn later records of that id', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    let known = false;
    const registry = {
      getSchema: async () => {
        if (!known) throw Object.assign(new Error('Schema not found'), { status: 404 });
        return avro.Type.forSchema(readSchema('CaptureRequested') as avro.Schema);
      },
    } as unknown as SchemaRegistry;
    const codec = new EventCodec(registry, { url: 'http://registry.invalid' });
    const body = codec.reader('CaptureRequested').toBuffer({ paymentId: 'p', captureAmount: { currency: 'HKD', value: '1' }, requestedAt: 1, metadata: {} });
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), body]);
    await expect(codec.decode('CaptureRequested', bytes)).rejects.toMatchObject({ reason: 'UNKNOWN_SCHEMA_ID' });
    known = true;
    jest.setSystemTime(1_000_000 + 29_000);
    await expect(codec.decode('CaptureRequested', bytes)).rejects.toMatchObject({ reason: 'UNKNOWN_SCHEMA_ID' });
    jest.setSystemTime(1_000_000 + 31_000);
    await expect(codec.decode('CaptureRequested', bytes)).resolves.toMatchObject({ paymentId: 'p' });
  });
});
