import type { TopicNames } from '../config/config';
import type { RegistryConnection } from '../config/connection';
import { RegistryError, RegistryHttp } from './registry-http';
import { EventName, readSchema } from './schema-files';

/** Which schema each topic carries; the retry topic carries the request itself. */
export function subjectsFor(topics: TopicNames): Array<{ subject: string; name: EventName }> {
  return [
    { subject: `${topics.requested}-value`, name: 'CaptureRequested' },
    { subject: `${topics.retry}-value`, name: 'CaptureRequested' },
    { subject: `${topics.succeeded}-value`, name: 'CaptureSucceeded' },
    { subject: `${topics.failed}-value`, name: 'CaptureFailed' },
    { subject: `${topics.unknown}-value`, name: 'CaptureUnknown' },
  ];
}

export class IncompatibleSchemaError extends Error {
  constructor(readonly subjects: string[]) {
    super(
      `schema change is not BACKWARD compatible with what the registry holds for: ${subjects.join(', ')}. ` +
        'Readers of the new schema must read old records: add fields only with defaults, remove only fields that had defaults.',
    );
    this.name = 'IncompatibleSchemaError';
  }
}

type Registration = { subject: string; id: number; version?: number };

/**
 * Sets each subject to BACKWARD compatibility, checks every schema against the latest version
 * first (so nothing registers when one of them is incompatible), then registers them.
 */
export async function registerSchemas(registryUrl: string | RegistryConnection, entries: Array<{ subject: string; schema: object }>): Promise<Registration[]> {
  const registry = new RegistryHttp(typeof registryUrl === 'string' ? { url: registryUrl } : registryUrl);
  try {
    const incompatible: string[] = [];
    for (const { subject, schema } of entries) {
      await registry.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' });
      if (!(await isCompatible(registry, subject, schema))) incompatible.push(subject);
    }
    if (incompatible.length > 0) throw new IncompatibleSchemaError(incompatible);
    const registered: Registration[] = [];
    for (const { subject, schema } of entries) {
      const { id } = (await registry.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body(schema))) as { id: number };
      registered.push({ subject, id });
    }
    return registered;
  } finally {
    await registry.close();
  }
}

export function productSchemas(topics: TopicNames): Array<{ subject: string; schema: object }> {
  return subjectsFor(topics).map(({ subject, name }) => ({ subject, schema: readSchema(name) }));
}

function body(schema: object) {
  return { schemaType: 'AVRO', schema: JSON.stringify(schema) };
}

async function isCompatible(registry: RegistryHttp, subject: string, schema: object): Promise<boolean> {
  try {
    const result = (await registry.call('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, body(schema))) as { is_compatible: boolean };
    return result.is_compatible;
  } catch (error) {
    const status = (error as RegistryError).status;
    if (status === 404) return true; // a new subject has nothing to be compatible with
    if (status === 409) return false;
    throw error;
  }
}
