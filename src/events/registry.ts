import type { RegistryConnection } from '../config/connection';
import { eventSubjects, type TopicNames } from './contract';
import { EventCodec } from './event-codec';
import { RegistryError, RegistryHttp } from './registry-http';
import { readSchema } from './schema-files';

export class IncompatibleSchemaError extends Error {
  constructor(readonly subjects: string[]) {
    super(
      `schema change is not BACKWARD compatible with what the registry holds for: ${subjects.join(', ')}. ` +
        'Readers of the new schema must read old records: add fields only with defaults, remove only fields that had defaults.',
    );
    this.name = 'IncompatibleSchemaError';
  }
}

export type SchemaEntry = { subject: string; schema: object };
export type Registration = { subject: string; id: number };

/**
 * The one way to the schema registry, with the configured credentials and CA: events are encoded
 * and decoded through `codec` (the Confluent client, with its caches and DLQ reasons);
 * registration, the start-up check and readiness go over plain HTTP. Every failure says which
 * setting to look at (RegistryError).
 */
export class EventRegistry {
  readonly codec: EventCodec;
  private readonly http: RegistryHttp;

  constructor(readonly connection: RegistryConnection) {
    this.codec = EventCodec.forRegistry(connection);
    this.http = new RegistryHttp(connection);
  }

  static forUrl(url: string): EventRegistry {
    return new EventRegistry({ url });
  }

  /** Start-up check: reachable, TLS trusted, credentials accepted. */
  verify(): Promise<void> {
    return this.http.verify();
  }

  /** For readiness probes: never throws. */
  reachable(): Promise<boolean> {
    return this.http.reachable();
  }

  /** Every event schema of the contract under its `<topic>-value` subject, as `init` registers them. */
  registerEvents(topics: TopicNames): Promise<Registration[]> {
    return this.register(eventSchemas(topics));
  }

  /**
   * Sets each subject to BACKWARD compatibility, checks every schema against the latest version
   * first (so nothing registers when one of them is incompatible), then registers them.
   */
  async register(entries: SchemaEntry[]): Promise<Registration[]> {
    const incompatible: string[] = [];
    for (const { subject, schema } of entries) {
      await this.http.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' });
      if (!(await this.isCompatible(subject, schema))) incompatible.push(subject);
    }
    if (incompatible.length > 0) throw new IncompatibleSchemaError(incompatible);
    const registered: Registration[] = [];
    for (const { subject, schema } of entries) {
      const { id } = (await this.http.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body(schema))) as { id: number };
      registered.push({ subject, id });
    }
    return registered;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async isCompatible(subject: string, schema: object): Promise<boolean> {
    try {
      const result = (await this.http.call('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, body(schema))) as { is_compatible: boolean };
      return result.is_compatible;
    } catch (error) {
      const status = (error as RegistryError).status;
      if (status === 404) return true; // a new subject has nothing to be compatible with
      if (status === 409) return false;
      throw error;
    }
  }
}

/** The contract's subjects for these topics, each with the schema of the event it carries. */
export function eventSchemas(topics: TopicNames): SchemaEntry[] {
  return eventSubjects(topics).map(({ subject, name }) => ({ subject, schema: readSchema(name) }));
}

function body(schema: object) {
  return { schemaType: 'AVRO', schema: JSON.stringify(schema) };
}
