import { connectCli } from './connect';
import { dlqEntry, type DlqEntry } from './dlq-records';
import { readTopics } from './topic-reader';
import { parseCommand, parseSince, UsageError } from './usage';

export const dlqListCommand = {
  name: 'dlq list',
  usage: `usage: capture-worker dlq list [--since TIME] [--samples N] [--json]
  Reads the DLQ topic (TOPIC_DLQ) to its end offsets and prints how many records it holds per
  dlq-reason, with the first N records of each (key, source topic/partition/offset, error).
  --since TIME   from the first record at or after TIME: ISO-8601 or epoch milliseconds
  --samples N    records shown per reason (default 3)
  --json         one JSON object instead of text`,
  options: { since: { type: 'string' }, samples: { type: 'string' }, json: { type: 'boolean' } },
} as const;

export interface DlqSummary {
  total: number;
  reasons: Record<string, { count: number; samples: DlqEntry[] }>;
}

/** Counts one record; only the samples are kept, so a DLQ of any size is listed in little memory. */
export function addToSummary(summary: DlqSummary, entry: DlqEntry, samples: number): void {
  summary.total++;
  const reason = (summary.reasons[entry.reason] ??= { count: 0, samples: [] });
  reason.count++;
  if (reason.samples.length < samples) reason.samples.push(entry);
}

export function summaryText(topic: string, summary: DlqSummary): string {
  const lines = [`${topic}: ${summary.total} record(s)`];
  for (const [reason, { count, samples }] of Object.entries(summary.reasons).sort(([, a], [, b]) => b.count - a.count)) {
    lines.push(`  ${reason}: ${count}`);
    for (const s of samples) lines.push(`    key ${s.key ?? '(none)'} from ${s.source.topic}[${s.source.partition}]@${s.source.offset}${s.encoding ? ` (${s.encoding})` : ''}: ${s.error}`);
  }
  return lines.join('\n');
}

/** `capture-worker dlq list`: see the usage above. */
export async function runDlqList(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const values = parseCommand(dlqListCommand, args);
  if (!values) return;
  const samples = Number(values.samples ?? 3);
  if (!Number.isInteger(samples) || samples < 0) throw new UsageError(`--samples: "${values.samples ?? ''}" is not a whole number`, 'dlq list');
  const since = values.since === undefined ? undefined : parseSince(values.since, 'dlq list');
  const { kafka, clientId, settings } = await connectCli('capture-worker-dlq', env);
  const topic = settings.topics.dlq;
  const summary: DlqSummary = { total: 0, reasons: {} };
  await readTopics(kafka, { topics: [topic], groupPrefix: clientId, since }, (record) => addToSummary(summary, dlqEntry(record), samples));
  console.log(values.json ? JSON.stringify(summary) : summaryText(topic, summary));
}
