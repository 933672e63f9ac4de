import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { KafkaMessage } from 'kafkajs';
import { deadLetter, DLQ_HEADERS, type DlqReference } from '../../../src/pipeline/dead-letter';

function message(overrides: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    key: Buffer.from('capture-42'),
    value: Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xfe]),
    timestamp: '1700000000000',
    attributes: 0,
    offset: '1234',
    headers: { traceparent: Buffer.from('00-abc-def-01'), 'capture-attempt': Buffer.from('3') },
    ...overrides,
  } as KafkaMessage;
}

const source = { topic: 'payments.capture.requested', partition: 5 };

describe('deadLetter', () => {
  it('keeps the key and value bytes untouched', () => {
    const original = message();
    const out = deadLetter(source, original, 'MALFORMED_AVRO', 'bad bytes');
    expect(out.key).toBe(original.key);
    expect(out.value).toBe(original.value);
    expect(Buffer.compare(out.value as Buffer, Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xfe]))).toBe(0);
  });

  it('keeps the original headers and adds the dlq-* ones', () => {
    const original = message();
    const out = deadLetter(source, original, 'UNKNOWN_SCHEMA_ID', 'schema 7 not found');
    expect(out.headers).toEqual({
      traceparent: original.headers!.traceparent,
      'capture-attempt': original.headers!['capture-attempt'],
      'dlq-reason': 'UNKNOWN_SCHEMA_ID',
      'dlq-error': 'schema 7 not found',
      'dlq-source-topic': 'payments.capture.requested',
      'dlq-source-partition': '5',
      'dlq-source-offset': '1234',
    });
    expect(Object.values(DLQ_HEADERS).sort()).toEqual(['dlq-error', 'dlq-reason', 'dlq-source-offset', 'dlq-source-partition', 'dlq-source-topic', 'dlq-value-encoding']);
  });

  it('does not modify the original message headers', () => {
    const original = message();
    deadLetter(source, original, 'R', 'E');
    expect(Object.keys(original.headers!).sort()).toEqual(['capture-attempt', 'traceparent']);
  });

  it('works without headers and with a null key', () => {
    const out = deadLetter(source, message({ headers: undefined, key: null }), 'R', 'E');
    expect(out.key).toBeNull();
    expect(out.headers).toEqual({
      'dlq-reason': 'R',
      'dlq-error': 'E',
      'dlq-source-topic': 'payments.capture.requested',
      'dlq-source-partition': '5',
      'dlq-source-offset': '1234',
    });
  });

  it('keeps a null value (tombstone) as null', () => {
    expect(deadLetter(source, message({ value: null }), 'R', 'E').value).toBeNull();
  });

  it('cuts the error text at 1000 characters', () => {
    const out = deadLetter(source, message(), 'R', 'x'.repeat(5000));
    expect(out.headers!['dlq-error']).toBe('x'.repeat(1000));
  });

  describe('a copy larger than the limit', () => {
    const size = (m: ReturnType<typeof deadLetter>) =>
      (m.key?.length ?? 0) + (m.value as Buffer).length + Object.entries(m.headers ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v as Buffer | string), 0);

    it('is gzipped when that fits, and gunzips to the original bytes', () => {
      const value = Buffer.from('x'.repeat(300_000));
      const out = deadLetter(source, message({ value }), 'RECORD_TOO_LARGE', 'too large', {}, 262_144);
      expect(out.headers![DLQ_HEADERS.encoding]).toBe('gzip');
      expect(gunzipSync(out.value as Buffer).equals(value)).toBe(true);
      expect(out.key).toEqual(Buffer.from('capture-42'));
      expect(out.headers!.traceparent).toEqual(Buffer.from('00-abc-def-01'));
      expect(size(out)).toBeLessThanOrEqual(262_144);
    });

    it('becomes a reference to the original (coordinates, size, hash) when even gzipped it does not fit', () => {
      const value = randomBytes(300_000);
      const out = deadLetter(source, message({ value }), 'RECORD_TOO_LARGE', 'too large', {}, 262_144);
      expect(out.headers![DLQ_HEADERS.encoding]).toBe('reference');
      expect(out.headers![DLQ_HEADERS.reason]).toBe('RECORD_TOO_LARGE');
      const reference = JSON.parse((out.value as Buffer).toString()) as DlqReference;
      expect(reference).toEqual({
        topic: 'payments.capture.requested',
        partition: 5,
        offset: '1234',
        keyBase64: Buffer.from('capture-42').toString('base64'),
        keySha256: createHash('sha256').update('capture-42').digest('hex'),
        valueBytes: 300_000,
        valueSha256: createHash('sha256').update(value).digest('hex'),
        headerNames: ['traceparent', 'capture-attempt'],
      });
      expect(size(out)).toBeLessThanOrEqual(262_144);
    });

    it('counts headers too, and keeps a small copy as it is', () => {
      const headers = { big: Buffer.alloc(200_000, 1) };
      expect(deadLetter(source, message({ headers }), 'R', 'e', {}, 100_000).headers![DLQ_HEADERS.encoding]).toBe('reference');
      expect(deadLetter(source, message(), 'R', 'e', {}, 100_000).headers![DLQ_HEADERS.encoding]).toBeUndefined();
    });
  });
});
