import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  error: 'dlq-error',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
} as const;

/** The original key, value and headers untouched, plus why and where from. */
export function deadLetter(source: { topic: string; partition: number }, message: KafkaMessage, reason: string, error: string, extra: Record<string, string> = {}): Message {
  const headers: IHeaders = {
    ...message.headers,
    ...extra,
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.error]: error.slice(0, 1000),
    [DLQ_HEADERS.topic]: source.topic,
    [DLQ_HEADERS.partition]: String(source.partition),
    [DLQ_HEADERS.offset]: message.offset,
  };
  return { key: message.key, value: message.value, headers };
}
