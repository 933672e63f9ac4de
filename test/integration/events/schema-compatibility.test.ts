import { randomUUID } from 'node:crypto';
import { eventSchemas, EventRegistry, IncompatibleSchemaError } from '../../../src/events/registry';
import { registryUrl, uniqueTopics } from '../../support/kafka';

describe('schema registration checks BACKWARD compatibility against the registry', () => {
  const topics = uniqueTopics('compat');
  const registry = EventRegistry.forUrl(registryUrl());
  afterAll(() => registry.close());

  it('registers every product subject, and registering again is a no-op with the same ids', async () => {
    const first = await registry.registerEvents(topics);
    expect(first.map((r) => r.subject)).toEqual([`${topics.requested}-value`, `${topics.retry}-value`, `${topics.succeeded}-value`, `${topics.failed}-value`, `${topics.unknown}-value`]);
    const again = await registry.registerEvents(topics);
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id));
  });

  it('rejects a new required field and registers nothing; accepts it with a default', async () => {
    const subject = `compat-${randomUUID()}-value`;
    const [{ schema }] = eventSchemas(topics);
    await registry.register([{ subject, schema }]);

    const breaking = { ...schema, fields: [...(schema as { fields: object[] }).fields, { name: 'merchantRef', type: 'string' }] };
    const attempt = registry.register([{ subject, schema: breaking }]);
    await expect(attempt).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await expect(attempt).rejects.toThrow(subject);
    const versions = await (await fetch(`${registryUrl()}/subjects/${subject}/versions`)).json();
    expect(versions).toEqual([1]);

    const compatible = { ...schema, fields: [...(schema as { fields: object[] }).fields, { name: 'merchantRef', type: 'string', default: '' }] };
    await registry.register([{ subject, schema: compatible }]);
    expect(await (await fetch(`${registryUrl()}/subjects/${subject}/versions`)).json()).toEqual([1, 2]);
  });
});
