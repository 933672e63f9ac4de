/** The kinds of bad records bench/bad-input.ts mixes into a good stream, and where each must end up. */
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { subjectFor, TOPIC_CONTRACT } from '../../../src/events/contract';
import type { EventCodec } from '../../../src/events/event-codec';
import type { EventRegistry } from '../../../src/events/registry';
import type { CaptureRequested } from '../../../src/events/types.generated';
import type { BenchTopics } from '../kafka';

/** Where a bad record must end up. */
export type Expect = 'DLQ' | 'PARAM_ILLEGAL';

export interface BadKind {
  name: string;
  expect: Expect;
  /** The DLQ reason expected, when it goes to the DLQ. */
  reason?: string;
  /** On the retry topic instead of the requested topic. */
  retryTopic?: boolean;
  make(n: number, ctx: Ctx): Message;
}

export interface Ctx {
  codec: EventCodec;
  requestedSchemaId: number;
  unrelatedSchemaId: number;
  unreadableSchemaId: number;
  succeededSchemaId: number;
}

export const request = (paymentId: string, value = '100', currency = 'USD', metadata: Record<string, string> = {}): CaptureRequested => ({
  paymentId,
  captureAmount: { currency, value },
  requestedAt: Date.now(),
  metadata,
});

const UNRELATED = { type: 'record', name: 'Unrelated', namespace: 'bench.badinput', fields: [{ name: 'x', type: 'int' }] } as const;
// Registries accept it, Avro readers refuse it: a union default must match the union's first branch.
const UNREADABLE = { type: 'record', name: 'Unreadable', namespace: 'bench.badinput', fields: [{ name: 'a', type: ['null', 'string'], default: 'x' }] } as const;

function wire(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

export const KINDS: BadKind[] = [
  { name: 'garbage bytes', expect: 'DLQ', reason: 'NOT_CONFLUENT_AVRO', make: (n) => ({ key: `bad-garbage-${n}`, value: Buffer.from(`\xde\xad not avro at all ${n}`, 'latin1') }) },
  { name: 'unknown schema id', expect: 'DLQ', reason: 'UNKNOWN_SCHEMA_ID', make: (n) => ({ key: `bad-unknown-schema-${n}`, value: wire(0x7ffffff0, Buffer.from([2, 4, 6])) }) },
  { name: 'null value (tombstone)', expect: 'DLQ', reason: 'NOT_CONFLUENT_AVRO', make: (n) => ({ key: `bad-null-${n}`, value: null }) },
  {
    name: 'truncated Avro body',
    expect: 'DLQ',
    reason: 'MALFORMED_AVRO',
    make: (n, c) => ({ key: `bad-truncated-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-trunc-${n}`)).subarray(0, 9) }),
  },
  {
    name: 'wrong schema (unrelated record)',
    expect: 'DLQ',
    reason: 'INCOMPATIBLE_SCHEMA',
    make: (n, c) => ({ key: `bad-unrelated-${n}`, value: wire(c.unrelatedSchemaId, avro.Type.forSchema(UNRELATED as unknown as avro.Schema).toBuffer({ x: n })) }),
  },
  {
    name: 'wrong schema (an outcome event)',
    expect: 'DLQ',
    reason: 'INCOMPATIBLE_SCHEMA',
    make: (n, c) => ({
      key: `bad-outcome-event-${n}`,
      value: wire(
        c.succeededSchemaId,
        c.codec.reader('CaptureSucceeded').toBuffer({
          captureRequestId: `x-${n}`,
          paymentId: `pay-x-${n}`,
          captureAmount: { currency: 'USD', value: '100' },
          requestedAt: Date.now(),
          metadata: {},
          result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'ok', local: false },
          attempt: 1,
          firstAttemptAt: Date.now(),
          completedAt: Date.now(),
          captureId: 'c',
          captureTime: 't',
          acquirerReferenceNo: null,
        }),
      ),
    }),
  },
  { name: 'missing key', expect: 'DLQ', reason: 'MISSING_KEY', make: (n, c) => ({ key: null, value: c.codec.encode('CaptureRequested', request(`pay-nokey-${n}`)) }) },
  { name: 'empty key', expect: 'DLQ', reason: 'MISSING_KEY', make: (n, c) => ({ key: '', value: c.codec.encode('CaptureRequested', request(`pay-emptykey-${n}`)) }) },
  {
    name: 'retry record without headers',
    expect: 'DLQ',
    reason: 'BAD_RETRY_HEADERS',
    retryTopic: true,
    make: (n, c) => ({ key: `bad-retry-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-retry-${n}`)) }),
  },
  {
    name: 'key not valid UTF-8',
    expect: 'DLQ',
    reason: 'INVALID_KEY',
    make: (n, c) => ({ key: Buffer.concat([Buffer.from(`bad-utf8-${n}-`), Buffer.from([0xff, 0xfe])]), value: c.codec.encode('CaptureRequested', request(`pay-utf8-${n}`)) }),
  },
  {
    name: 'retry headers out of range',
    expect: 'DLQ',
    reason: 'BAD_RETRY_HEADERS',
    retryTopic: true,
    make: (n, c) => ({
      key: `bad-retry-range-${n}`,
      value: c.codec.encode('CaptureRequested', request(`pay-retry-range-${n}`)),
      headers: { 'capture-attempt': '2147483648', 'capture-due-at': '99999999999999999', 'capture-first-attempt-at': '0' },
    }),
  },
  {
    name: 'value over MAX_RECORD_BYTES (270 kB)',
    expect: 'DLQ',
    reason: 'RECORD_TOO_LARGE',
    make: (n, c) => ({ key: `bad-too-large-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-too-large-${n}`, '100', 'USD', { blob: 'b'.repeat(270_000) })) }),
  },
  {
    name: 'writer schema that cannot be parsed',
    expect: 'DLQ',
    reason: 'UNREADABLE_WRITER_SCHEMA',
    make: (n, c) => ({ key: `bad-unreadable-${n}`, value: wire(c.unreadableSchemaId, Buffer.from([0])) }),
  },
  { name: 'key over 64 chars', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-long-key-${n}-`.padEnd(65, 'k'), value: c.codec.encode('CaptureRequested', request(`pay-longkey-${n}`)) }) },
  { name: 'bad currency', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-currency-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-cur-${n}`, '100', 'usd')) }) },
  { name: 'non-integer amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-fraction-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-frac-${n}`, '10.5')) }) },
  { name: 'negative amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-negative-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-neg-${n}`, '-100')) }) },
  { name: 'zero amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-zero-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-zero-${n}`, '0')) }) },
  { name: 'amount over 18 digits', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-huge-amount-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-huge-${n}`, '1'.repeat(19))) }) },
  { name: 'empty payment id', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-empty-payment-${n}`, value: c.codec.encode('CaptureRequested', request('')) }) },
  {
    name: 'oversized payment id (100 kB)',
    expect: 'PARAM_ILLEGAL',
    make: (n, c) => ({ key: `bad-big-payment-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-${n}-`.padEnd(100_000, 'p'))) }),
  },
];

/** A valid request whose value is just under the broker's record limit (message.max.bytes 1048588). */
export const NEAR_LIMIT: BadKind = {
  name: 'near-limit record (valid request, ~1 MB metadata)',
  expect: 'DLQ',
  make: (n, c) => ({ key: `bad-near-limit-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-near-limit-${n}`, '100', 'USD', { blob: 'm'.repeat(1_040_000) })) }),
};

/**
 * The schemas the bad kinds are written with, registered for the run's topics. The registry
 * adapter registers over HTTP without parsing, so it takes the unreadable schema too (the Avro
 * library would refuse it before sending).
 */
export async function kindContext(registry: EventRegistry, t: BenchTopics): Promise<Ctx> {
  const { codec } = registry;
  const [unrelated, unreadable] = await registry.register([
    { subject: subjectFor(`${t.id}.unrelated`), schema: UNRELATED },
    { subject: subjectFor(`${t.id}.unreadable`), schema: UNREADABLE },
  ]);
  return {
    codec,
    requestedSchemaId: await codec.useSubject(TOPIC_CONTRACT.requested.event, t.requested),
    succeededSchemaId: await codec.useSubject(TOPIC_CONTRACT.succeeded.event, t.succeeded),
    unrelatedSchemaId: unrelated.id,
    unreadableSchemaId: unreadable.id,
  };
}
