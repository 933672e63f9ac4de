import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { RegistryConnection } from '../config/connection';
import { explainRegistryFailure, explainRegistryStatus, registryAgent, registryAuthMiddleware, RegistryError } from './registry-http';
import { OUTCOME_ROLES, subjectFor, TOPIC_CONTRACT, type EventName, type TopicNames } from './contract';
import { readSchema } from './schema-files';
import type { CaptureFailed, CaptureRequested, CaptureSucceeded, CaptureUnknown } from './types.generated';
import { toError } from '../util/errors';

export interface EventTypes {
  CaptureRequested: CaptureRequested;
  CaptureSucceeded: CaptureSucceeded;
  CaptureFailed: CaptureFailed;
  CaptureUnknown: CaptureUnknown;
}

/** Why a record could not be decoded; each is a DLQ reason. */
export type DecodeFailure = 'NOT_CONFLUENT_AVRO' | 'UNKNOWN_SCHEMA_ID' | 'UNREADABLE_WRITER_SCHEMA' | 'INCOMPATIBLE_SCHEMA' | 'MALFORMED_AVRO';

export class UndecodableRecordError extends Error {
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'UndecodableRecordError';
  }
}

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

const REFUSAL_TTL_MS = 30_000;
const UNREADABLE_ATTEMPTS = 3;

/**
 * Confluent wire format (magic byte, 4-byte schema id, Avro body) over the registry.
 * Decoding reads any writer schema into our reader schema, with one cached resolver per writer id,
 * so a record written with a schema that cannot be read as ours is refused, not misread.
 */
export class EventCodec {
  private readonly readers = new Map<EventName, avro.Type>();
  private readonly writerIds = new Map<EventName, number>();
  private readonly resolvers = new Map<string, { pending: Promise<avro.Resolver | UndecodableRecordError>; at: number; refusal: boolean }>();
  /** Writer ids whose schema the registry served but could not be parsed, and how often in a row. */
  private readonly unreadable = new Map<string, number>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly connection: RegistryConnection,
  ) {}

  /** With the registry's credentials and CA (SCHEMA_REGISTRY_*). */
  static forRegistry(connection: RegistryConnection): EventCodec {
    const registry = new SchemaRegistry({ host: connection.url, retry: { retries: 2 }, agent: registryAgent(connection), middlewares: registryAuthMiddleware(connection) });
    return new EventCodec(registry, connection);
  }

  reader(name: EventName): avro.Type {
    let type = this.readers.get(name);
    if (!type) {
      type = avro.Type.forSchema(readSchema(name) as avro.Schema);
      this.readers.set(name, type);
    }
    return type;
  }

  /** Registers (idempotently) the schema under `<topic>-value` and encodes with that id from then on. */
  async useSubject(name: EventName, topic: string): Promise<number> {
    const subject = subjectFor(topic);
    const { id } = await this.registry.register(readSchema(name), { subject }).catch((error: unknown) => {
      throw this.explain(toError(error), 'POST', `/subjects/${subject}/versions`);
    });
    this.writerIds.set(name, id);
    return id;
  }

  /** Every outcome event's subject under these topic names: what a worker writes. */
  async useOutcomeSubjects(topics: TopicNames): Promise<void> {
    for (const role of OUTCOME_ROLES) await this.useSubject(TOPIC_CONTRACT[role].event, topics[role]);
  }

  encode<N extends EventName>(name: N, value: EventTypes[N]): Buffer {
    const id = this.writerIds.get(name);
    if (id === undefined) throw new Error(`${name} has no schema id yet: call useSubject first`);
    const body = this.reader(name).toBuffer(value);
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeUInt32BE(id, 1);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  /**
   * Throws UndecodableRecordError for bad bytes (send the record to the DLQ); any other error
   * (registry unreachable) is transient and must not condemn the record.
   */
  async decode<N extends EventName>(name: N, bytes: Buffer | null): Promise<EventTypes[N]> {
    if (!bytes || bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_BYTE) {
      throw new UndecodableRecordError('NOT_CONFLUENT_AVRO', `value is ${bytes ? `${bytes.length} bytes without the Confluent Avro header` : 'null'}`);
    }
    const writerId = bytes.readUInt32BE(1);
    const resolver = await this.resolverFor(name, writerId);
    if (resolver instanceof UndecodableRecordError) throw resolver;
    try {
      return this.reader(name).fromBuffer(bytes.subarray(HEADER_BYTES), resolver) as EventTypes[N];
    } catch (error) {
      throw new UndecodableRecordError('MALFORMED_AVRO', `schema id ${writerId}: ${(error as Error).message}`);
    }
  }

  /** A registry refusal or TLS failure, said in terms of the settings to change. */
  private explain(error: Error, method: string, path: string): Error {
    const status = (error as { status?: number }).status;
    // Only HTTP statuses and socket/TLS failures (they carry a code) are about the connection.
    const said = status !== undefined ? explainRegistryStatus(this.connection, status, method, path) : (error as { code?: string }).code ? explainRegistryFailure(this.connection, error) : undefined;
    return said ? new RegistryError(said, status) : error;
  }

  private resolverFor(name: EventName, writerId: number): Promise<avro.Resolver | UndecodableRecordError> {
    const key = `${name}:${writerId}`;
    const cached = this.resolvers.get(key);
    // A refusal expires: a lagging registry replica may not know an id yet that it will know soon.
    if (cached && !(cached.refusal && Date.now() - cached.at > REFUSAL_TTL_MS)) return cached.pending;
    const pending = this.buildResolver(key, name, writerId);
    const entry = { pending, at: Date.now(), refusal: false };
    this.resolvers.set(key, entry);
    pending.then(
      (resolver) => {
        entry.refusal = resolver instanceof UndecodableRecordError;
      },
      // A transient registry failure must be retried on the next record, not cached.
      () => this.resolvers.delete(key),
    );
    return pending;
  }

  private async buildResolver(key: string, name: EventName, writerId: number): Promise<avro.Resolver | UndecodableRecordError> {
    let writer: avro.Type;
    try {
      writer = (await this.registry.getSchema(writerId)) as unknown as avro.Type;
    } catch (error) {
      if (isNotFound(error)) return new UndecodableRecordError('UNKNOWN_SCHEMA_ID', `schema id ${writerId} is not in the registry`);
      if (isTransport(error)) throw this.explain(error as Error, 'GET', `/schemas/ids/${writerId}`);
      // The registry answered with a schema this library cannot parse: the same answer each time,
      // so after a few tries the record goes to the DLQ instead of holding its slot for ever.
      const failures = (this.unreadable.get(key) ?? 0) + 1;
      this.unreadable.set(key, failures);
      if (failures < UNREADABLE_ATTEMPTS) throw error;
      this.unreadable.delete(key);
      return new UndecodableRecordError('UNREADABLE_WRITER_SCHEMA', `schema id ${writerId} cannot be parsed: ${(error as Error).message}`);
    }
    this.unreadable.delete(key);
    try {
      return this.reader(name).createResolver(writer);
    } catch (error) {
      return new UndecodableRecordError('INCOMPATIBLE_SCHEMA', `schema id ${writerId} cannot be read as ${name}: ${(error as Error).message}`);
    }
  }
}

/** An HTTP answer or a socket/TLS failure: about the registry, not about the schema. */
function isTransport(error: unknown): boolean {
  return (error as { status?: number }).status !== undefined || (error as { code?: string }).code !== undefined;
}

function isNotFound(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 404 || status === 422;
}
