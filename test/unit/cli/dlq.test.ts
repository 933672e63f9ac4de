import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { addToSummary, type DlqSummary, summaryText } from '../../../src/cli/dlq-list';
import { dlqEntry, originalMessage, ReplayRefused } from '../../../src/cli/dlq-records';
import type { ReadRecord } from '../../../src/cli/topic-reader';
import { deadLetter } from '../../../src/pipeline/dead-letter';

const SOURCE = { topic: 'payments.capture.requested', partition: 4 };

/** A DLQ record exactly as the worker writes it (deadLetter), as the reader hands it out. */
function dlqRecord(value: Buffer, maxBytes = Infinity, headers: Record<string, string> = { traceparent: '00-abc-def-01' }, extra: Record<string, string> = {}): ReadRecord {
  const message = { key: Buffer.from('key-1'), value, headers, offset: '17', timestamp: '0', attributes: 0 } as KafkaMessage;
  const dead = deadLetter(SOURCE, message, 'NOT_CONFLUENT_AVRO', 'value is 3 bytes without the Confluent Avro header', extra, maxBytes);
  return { topic: 'payments.capture.dlq', partition: 0, offset: '3', timestamp: '0', key: dead.key as Buffer, value: dead.value as Buffer, headers: dead.headers! };
}

describe('dlqEntry', () => {
  it('reads reason, error and source coordinates from the dlq-* headers', () => {
    expect(dlqEntry(dlqRecord(Buffer.from('abc')))).toEqual({
      key: 'key-1',
      reason: 'NOT_CONFLUENT_AVRO',
      error: 'value is 3 bytes without the Confluent Avro header',
      source: { topic: SOURCE.topic, partition: 4, offset: '17' },
      encoding: undefined,
    });
  });
});

describe('originalMessage', () => {
  it('gives back the key, value and headers the worker received, without any dlq-* header', () => {
    const message = originalMessage(dlqRecord(Buffer.from('abc'), Infinity, { traceparent: 't' }, { 'dlq-vendor-result-code': 'X' }));
    expect(message.key).toEqual(Buffer.from('key-1'));
    expect(message.value).toEqual(Buffer.from('abc'));
    expect(message.headers).toEqual({ traceparent: 't' });
  });

  it('gunzips a copy the worker gzipped', () => {
    const value = Buffer.from('x'.repeat(10_000));
    const record = dlqRecord(value, 2048);
    expect(dlqEntry(record).encoding).toBe('gzip');
    expect(originalMessage(record).value).toEqual(value);
  });

  it('refuses a reference, naming where the original stays', () => {
    const record = dlqRecord(randomBytes(8192), 1100);
    expect(dlqEntry(record).encoding).toBe('reference');
    expect(() => originalMessage(record)).toThrow(ReplayRefused);
    expect(() => originalMessage(record)).toThrow(`the original stays at ${SOURCE.topic}[4]@17`);
  });
});

describe('dlq list summary', () => {
  it('counts every record by reason and keeps only the first samples', () => {
    const summary: DlqSummary = { total: 0, reasons: {} };
    const entry = dlqEntry(dlqRecord(Buffer.from('abc')));
    for (let i = 0; i < 5; i++) addToSummary(summary, { ...entry, key: `k${i}` }, 2);
    addToSummary(summary, { ...entry, reason: 'MISSING_KEY' }, 2);
    expect(summary.total).toBe(6);
    expect(summary.reasons.NOT_CONFLUENT_AVRO.count).toBe(5);
    expect(summary.reasons.NOT_CONFLUENT_AVRO.samples.map((s) => s.key)).toEqual(['k0', 'k1']);
    expect(summaryText('dlq', summary).split('\n')).toEqual([
      'dlq: 6 record(s)',
      '  NOT_CONFLUENT_AVRO: 5',
      `    key k0 from ${SOURCE.topic}[4]@17: value is 3 bytes without the Confluent Avro header`,
      `    key k1 from ${SOURCE.topic}[4]@17: value is 3 bytes without the Confluent Avro header`,
      '  MISSING_KEY: 1',
      `    key key-1 from ${SOURCE.topic}[4]@17: value is 3 bytes without the Confluent Avro header`,
    ]);
  });
});
