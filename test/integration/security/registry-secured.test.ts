import { randomUUID } from 'node:crypto';
import { loadConnections } from '../../../src/config/connection';
import { EventRegistry, IncompatibleSchemaError } from '../../../src/events/registry';
import { readSchema } from '../../../src/events/schema-files';
import { secureEnv } from './secured';

/** The registry behind TLS and authentication: registration, the BACKWARD check, encode/decode. */
describe.each(['admin', 'bearer'] as const)('schema registry over TLS, %s credentials', (profile) => {
  const registry = new EventRegistry(loadConnections(secureEnv('scram-sha-256', profile), 'registry-test').registry);
  afterAll(() => registry.close());

  it('registers under BACKWARD compatibility and refuses a breaking change', async () => {
    const subject = `secure-${randomUUID().slice(0, 8)}-value`;
    const schema = readSchema('CaptureRequested') as { fields: Array<{ name: string }> };
    const [first] = await registry.register([{ subject, schema }]);
    expect(first.id).toBeGreaterThan(0);
    // A new required field without a default: old records could not be read with it.
    const breaking = { ...schema, fields: [...schema.fields, { name: 'mandatory', type: 'string' }] };
    await expect(registry.register([{ subject, schema: breaking }])).rejects.toThrow(IncompatibleSchemaError);
    const compatible = { ...schema, fields: [...schema.fields, { name: 'optional', type: 'string', default: '' }] };
    expect((await registry.register([{ subject, schema: compatible }]))[0].id).not.toBe(first.id);
  });

  it('encodes with a registered id and decodes through the registry', async () => {
    const { codec } = registry;
    const id = await codec.useSubject('CaptureRequested', `secure-${randomUUID().slice(0, 8)}`);
    const value = { paymentId: 'pay-1', captureAmount: { currency: 'USD', value: '100' }, requestedAt: 1, metadata: { k: 'v' } };
    const bytes = codec.encode('CaptureRequested', value);
    expect(bytes.readUInt32BE(1)).toBe(id);
    // A fresh codec knows no schema yet: decoding must fetch the writer schema by id, authenticated.
    expect(await new EventRegistry(registry.connection).codec.decode('CaptureRequested', bytes)).toEqual(value);
  });
});
