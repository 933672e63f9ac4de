import readline from 'node:readline';
import type { Message } from 'kafkajs';
import { validateCaptureRequest } from '../api/validate';
import type { CaptureRequested } from '../events/types.generated';
import { connectCli } from './connect';
import { parseCommand } from './usage';

export const produceCommand = {
  name: 'produce',
  usage: `usage: capture-worker produce < requests.jsonl
  Reads JSON lines from stdin, one request each:
    {"captureRequestId","paymentId","captureAmount":{"currency","value"},"requestedAt"?,"metadata"?}
  validates them as the worker will, and publishes CaptureRequested events to TOPIC_REQUESTED
  keyed by captureRequestId. Invalid lines are reported on stderr and skipped (exit 1).`,
  options: {},
} as const;

/** A JSON line as integrating teams write it: the request plus its key. */
export interface RequestLine extends CaptureRequested {
  captureRequestId: string;
}

/** Parses and validates one line; the error names the field. */
export function parseRequestLine(line: string, now = Date.now()): { key: string; value: CaptureRequested } {
  let raw: Partial<RequestLine>;
  try {
    raw = JSON.parse(line) as Partial<RequestLine>;
  } catch {
    throw new Error('not JSON');
  }
  // Strings only, as the API takes them: a number or object is an error, never coerced.
  const text = (field: string, value: unknown): string => {
    if (typeof value !== 'string') throw new Error(`${field}: must be a string`);
    return value;
  };
  const request = {
    captureRequestId: text('captureRequestId', raw.captureRequestId),
    paymentId: text('paymentId', raw.paymentId),
    captureAmount: { currency: text('captureAmount.currency', raw.captureAmount?.currency), value: text('captureAmount.value', raw.captureAmount?.value) },
  };
  const problem = validateCaptureRequest(request);
  if (problem) throw new Error(`${problem.field}: ${problem.message}`);
  const metadata = raw.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
    throw new Error('metadata: must be an object of strings');
  }
  return {
    key: request.captureRequestId,
    value: { paymentId: request.paymentId, captureAmount: request.captureAmount, requestedAt: typeof raw.requestedAt === 'number' ? raw.requestedAt : now, metadata },
  };
}

/** `capture-worker produce`: JSON lines on stdin → CaptureRequested events; invalid lines are reported and skipped. */
export async function runProduce(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!parseCommand(produceCommand, args)) return;
  const { kafka, registry, settings } = await connectCli('capture-worker-produce', env);
  const topics = settings.topics;
  const { codec } = registry;
  await codec.useSubject('CaptureRequested', topics.requested);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  let lineNo = 0;
  let sent = 0;
  let rejected = 0;
  let batch: Message[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({ topic: topics.requested, messages: batch });
    sent += batch.length;
    batch = [];
  };
  try {
    for await (const line of readline.createInterface({ input: process.stdin })) {
      lineNo++;
      if (!line.trim()) continue;
      try {
        const { key, value } = parseRequestLine(line);
        batch.push({ key, value: codec.encode('CaptureRequested', value) });
        if (batch.length >= 500) await flush();
      } catch (error) {
        rejected++;
        console.error(`line ${lineNo}: ${(error as Error).message}`);
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  console.error(`produced ${sent} CaptureRequested to ${topics.requested}${rejected ? `; rejected ${rejected} invalid line(s)` : ''}`);
  if (rejected > 0) process.exitCode = 1;
}
