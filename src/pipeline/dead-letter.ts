import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  error: 'dlq-error',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
  /** Absent: the value is the original bytes. `gzip`: gunzip it to get them. `reference`: see DlqReference. */
  encoding: 'dlq-value-encoding',
} as const;

/** What a DLQ record carries instead of a value too large to copy: the original stays in its topic. */
export interface DlqReference {
  topic: string;
  partition: number;
  offset: string;
  /** The original key, base64 (it may not be text); null when absent or over 1 KiB (then only its hash). */
  keyBase64: string | null;
  keySha256: string | null;
  valueBytes: number;
  valueSha256: string;
  headerNames: string[];
}

const MAX_REFERENCE_KEY_BYTES = 1024;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function headerBytes(headers: IHeaders | undefined): number {
  let total = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    total += name.length;
    for (const v of Array.isArray(value) ? value : [value]) total += v === undefined ? 0 : Buffer.byteLength(v);
  }
  return total;
}

/**
 * The original key, value and headers untouched, plus why and where from. A copy larger than
 * `maxBytes` would fail its transaction (over the broker's message limit) and, retried, stall the
 * partition: its value is gzipped then, and if that is still too large the record becomes a
 * reference to the original (coordinates, size, hash), which stays in the source topic.
 */
export function deadLetter(source: { topic: string; partition: number }, message: KafkaMessage, reason: string, error: string, extra: Record<string, string> = {}, maxBytes = Infinity): Message {
  const dlq: IHeaders = {
    ...extra,
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.error]: error.slice(0, 1000),
    [DLQ_HEADERS.topic]: source.topic,
    [DLQ_HEADERS.partition]: String(source.partition),
    [DLQ_HEADERS.offset]: message.offset,
  };
  const value = message.value;
  const fixed = (message.key?.length ?? 0) + headerBytes(dlq) + 64;
  if (fixed + headerBytes(message.headers) + (value?.length ?? 0) <= maxBytes) return { key: message.key, value, headers: { ...message.headers, ...dlq } };
  if (value) {
    const zipped = gzipSync(value);
    if (fixed + headerBytes(message.headers) + zipped.length <= maxBytes) return { key: message.key, value: zipped, headers: { ...message.headers, ...dlq, [DLQ_HEADERS.encoding]: 'gzip' } };
  }
  const reference: DlqReference = {
    topic: source.topic,
    partition: source.partition,
    offset: message.offset,
    keyBase64: message.key && message.key.length <= MAX_REFERENCE_KEY_BYTES ? message.key.toString('base64') : null,
    keySha256: message.key ? sha256(message.key) : null,
    valueBytes: value?.length ?? 0,
    valueSha256: sha256(value ?? Buffer.alloc(0)),
    headerNames: Object.keys(message.headers ?? {}),
  };
  const key = message.key && message.key.length <= MAX_REFERENCE_KEY_BYTES ? message.key : null;
  return { key, value: Buffer.from(JSON.stringify(reference)), headers: { ...dlq, [DLQ_HEADERS.encoding]: 'reference' } };
}
