import type { TopicNames } from '../config/config';
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
export async function registerSchemas(
  registryUrl: string,
  entries: Array<{ subject: string; schema: object }>,
): Promise<Registration[]> {
  const registry = new RegistryHttp(registryUrl);
  const incompatible: string[] = [];
  for (const { subject, schema } of entries) {
    await registry.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' });
    if (!(await registry.isCompatible(subject, schema))) incompatible.push(subject);
  }
  if (incompatible.length > 0) throw new IncompatibleSchemaError(incompatible);
  const registered: Registration[] = [];
  for (const { subject, schema } of entries) {
    const { id } = (await registry.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body(schema))) as { id: number };
    registered.push({ subject, id });
  }
  return registered;
}

export function productSchemas(topics: TopicNames): Array<{ subject: string; schema: object }> {
  return subjectsFor(topics).map(({ subject, name }) => ({ subject, schema: readSchema(name) }));
}

function body(schema: object) {
  return { schemaType: 'AVRO', schema: JSON.stringify(schema) };
}

class RegistryHttp {
  constructor(private readonly baseUrl: string) {}

  async isCompatible(subject: string, schema: object): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, this.init('POST', body(schema)));
    if (response.status === 404) return true; // a new subject has nothing to be compatible with
    if (response.status === 409) return false;
    const result = (await this.parse(response, 'POST', 'compatibility')) as { is_compatible: boolean };
    return result.is_compatible;
  }

  async call(method: string, path: string, payload: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, this.init(method, payload));
    return this.parse(response, method, path);
  }

  private init(method: string, payload: unknown): RequestInit {
    return {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    };
  }

  private async parse(response: Response, method: string, path: string): Promise<unknown> {
    const text = await response.text();
    if (!response.ok) throw new Error(`schema registry ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  }
}
