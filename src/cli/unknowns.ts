import type { CaptureUnknown } from '../events/types.generated';
import { connectCli } from './connect';
import { readTopics } from './topic-reader';
import { parseCommand, parseSince } from './usage';

export const unknownsCommand = {
  name: 'unknowns',
  usage: `usage: capture-worker unknowns [--final] [--since TIME]
  CaptureUnknown events of TOPIC_UNKNOWN read to its end offsets, as JSON lines: key, paymentId,
  amount, attempt, completedAt, final, and the last result code and message.
  --final        only final ones (retries ran out): the captures to reconcile with the vendor
                 (inquiry by captureRequestId) before capturing again; never treat them as failed
  --since TIME   from the first record at or after TIME: ISO-8601 or epoch milliseconds`,
  options: { final: { type: 'boolean' }, since: { type: 'string' } },
} as const;

export function unknownLine(key: string | null, event: CaptureUnknown) {
  return {
    key,
    paymentId: event.paymentId,
    amount: event.captureAmount,
    attempt: event.attempt,
    completedAt: new Date(event.completedAt).toISOString(),
    final: event.final,
    resultCode: event.result.resultCode,
    resultMessage: event.result.resultMessage,
  };
}

/** `capture-worker unknowns`: see the usage above. */
export async function runUnknowns(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const values = parseCommand(unknownsCommand, args);
  if (!values) return;
  const since = values.since === undefined ? undefined : parseSince(values.since, 'unknowns');
  const { kafka, registry, clientId, settings } = await connectCli('capture-worker-unknowns', env);
  const topic = settings.topics.unknown;
  const codec = registry.codec;
  let count = 0;
  await readTopics(kafka, { topics: [topic], groupPrefix: clientId, since }, async (record) => {
    const event = await codec.decode('CaptureUnknown', record.value);
    if (values.final && !event.final) return;
    count++;
    process.stdout.write(`${JSON.stringify(unknownLine(record.key?.toString() ?? null, event))}\n`);
  });
  console.error(`${count} ${values.final ? 'final ' : ''}unknown capture(s) in ${topic}`);
}
