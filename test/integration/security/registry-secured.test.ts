import { randomUUID } from 'node:crypto';
import { loadConnections } from '../../../src/config/connection';
import { EventCodec } from '../../../src/events/event-codec';
import { readSchema } from '../../../src/events/schema-files';
import { IncompatibleSchemaError, registerSchemas } from '../../../src/events/schema-registration';
import { secureEnv } from './secured';

/** The registry behind TLS and authentication: registration, the BACKWARD check, encode/decode. */
describe.each(['admin', 'bearer'] as const)('schema registry over TLS, %s credentials', (profile) => {
  const { registry } = loadConnections(secureEnv('scram-sha-256', profile), 'registry-test');

  it('registers under BACKWARD compatibility and refuses a breaking change', async () => {
    const subject = `secure-${randomUUID().slice(0, 8)}-value`;
    const schema = readSchema('CaptureRequested') as { fields: Array<{ name: string }> };
    const [first] = await registerSchemas(registry, [{ subject, schema }]);
    expect(first!.id).toBeGreaterThan(0);
    // A new required field without a default: old records could not be read with it.
    const breaking = { ...schema, fields: [...schema.fields, { name: 'mandatory', type: 'string' }] };
    await expect(registerSchemas(registry, [{ subject, schema: breaking }])).rejects.toThrow(IncompatibleSchemaError);
    const compatible = { ...schema, fields: [...schema.fields, { name: 'optional', type: 'string', default: '' }] };
    expect((await registerSchemas(registry, [{ subject, schema: compatible }]))[0]!.id).not.toBe(first!.id);
  });

  it('encodes with a registered id and decodes through the registry', async () => {
    const codec = EventCodec.forRegistry(registry);
    const id = await codec.useSubject('CaptureRequested', `secure-${randomUUID().slice(0, 8)}`);
    const value = { paymentId: 'pay-1', captureAmount: { currency: 'USD', value: '100' }, requestedAt: 1, metadata: { k: 'v' } };
    const bytes = codec.encode('CaptureRequested', value);
    expect(bytes.readUInt32BE(1)).toBe(id);
    // A fresh codec knows no schema yet: decoding must fetch the writer schema by id, authenticated.
    expect(await EventCodec.forRegistry(registry).decode('CaptureRequested', bytes)).toEqual(value);
  });
});
