import { gunzipSync } from 'node:zlib';
import type { IHeaders, Message } from 'kafkajs';
import { DLQ_HEADERS } from '../pipeline/dead-letter';
import { headerText, type ReadRecord } from './topic-reader';

/** What the dlq-* headers say about a DLQ record. */
export interface DlqEntry {
  key: string | null;
  reason: string;
  error: string;
  source: { topic: string; partition: number; offset: string };
  encoding: string | undefined;
}

export function dlqEntry(record: ReadRecord): DlqEntry {
  const h = headerText(record.headers);
  return {
    key: record.key?.toString() ?? null,
    reason: h[DLQ_HEADERS.reason] ?? '(none)',
    error: h[DLQ_HEADERS.error] ?? '',
    source: { topic: h[DLQ_HEADERS.topic] ?? '', partition: Number(h[DLQ_HEADERS.partition]), offset: h[DLQ_HEADERS.offset] ?? '' },
    encoding: h[DLQ_HEADERS.encoding],
  };
}

/** Reasons whose records got an answer from the vendor (or may have): replaying them takes --force. */
export const FORCE_REASONS: Record<string, string> = {
  CONFLICTING_REQUEST: 'the key was used before with other fields and that earlier request may have been captured: replaying can capture twice',
  OUTCOME_ENCODE_FAILED: 'the call was made and answered (dlq-vendor-result-* headers): replaying can publish an outcome that contradicts it',
};

export class ReplayRefused extends Error {}

/**
 * The record as it was before the worker dead-lettered it: key, value (gunzipped when the copy was
 * compressed) and headers without the ones the DLQ added (dlq-reason, dlq-error, dlq-source-*,
 * dlq-value-encoding, dlq-vendor-result-*).
 */
export function originalMessage(record: ReadRecord): Message {
  const entry = dlqEntry(record);
  if (entry.encoding === 'reference') {
    throw new ReplayRefused(`the value is not in the DLQ (it was too large to copy): the original stays at ${entry.source.topic}[${entry.source.partition}]@${entry.source.offset}`);
  }
  if (entry.encoding !== undefined && entry.encoding !== 'gzip') throw new ReplayRefused(`unknown ${DLQ_HEADERS.encoding} "${entry.encoding}"`);
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(record.headers)) if (!name.startsWith('dlq-')) headers[name] = value;
  const value = entry.encoding === 'gzip' && record.value ? gunzipSync(record.value) : record.value;
  return { key: record.key, value, headers };
}
