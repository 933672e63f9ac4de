import { DISPOSITIONS, OUTCOME_ROLES, TOPIC_CONTRACT, type Disposition } from '../events/contract';
import { connectCli } from './connect';
import { headerText, readTopics, type ReadRecord } from './topic-reader';
import { parseCommand, parseSince, UsageError } from './usage';

/** The outcome topics, and the DLQ (its records are shown as they are, not decoded). */
const ROLES = DISPOSITIONS;
type Role = Disposition;

export const tailCommand = {
  name: 'tail',
  usage: `usage: capture-worker tail [--topic ROLE]... [--key ID] [--since TIME] [--follow] [--json]
  Committed records of the outcome topics, read from the earliest offset (or --since) to the end
  offsets taken at start, then exits; --follow keeps reading until SIGINT/SIGTERM.
  --topic ROLE   succeeded, failed, unknown or dlq (repeatable; default: the three outcome topics)
  --key ID       only records with this key (captureRequestId)
  --since TIME   from the first record at or after TIME: ISO-8601 or epoch milliseconds
  --follow       keep reading new records
  --json         one JSON object a line: topic, partition, offset, timestamp, key, headers and
                 the decoded event (for dlq: the value, base64)`,
  options: {
    topic: { type: 'string', multiple: true },
    key: { type: 'string' },
    since: { type: 'string' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const;

export function tailRoles(values: string[] | undefined): Role[] {
  const roles = values ?? OUTCOME_ROLES;
  for (const role of roles) if (!ROLES.includes(role as Role)) throw new UsageError(`--topic: "${role}" is not one of ${ROLES.join(', ')}`, 'tail');
  return [...new Set(roles)] as Role[];
}

export interface TailRow {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  event?: unknown;
  valueBase64?: string | null;
}

export function tailRow(record: ReadRecord, event: unknown): TailRow {
  const row: TailRow = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: new Date(Number(record.timestamp)).toISOString(),
    key: record.key?.toString() ?? null,
    headers: headerText(record.headers),
  };
  if (event === undefined) row.valueBase64 = record.value?.toString('base64') ?? null;
  else row.event = event;
  return row;
}

/** One line for a person: when, where, key, and the result (or the DLQ reason). */
export function tailLine(row: TailRow): string {
  const result = (row.event as { result?: { resultStatus: string; resultCode: string }; final?: boolean } | undefined)?.result;
  const what = result ? `${result.resultStatus} ${result.resultCode}${(row.event as { final?: boolean }).final ? ' final' : ''}` : (row.headers['dlq-reason'] ?? '');
  return `${row.timestamp} ${row.topic}[${row.partition}]@${row.offset} ${row.key ?? '(no key)'} ${what}`;
}

/** Resolves at the first SIGINT or SIGTERM, so --follow can disconnect and delete its group. */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** `capture-worker tail`: see the usage above. */
export async function runTail(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const values = parseCommand(tailCommand, args);
  if (!values) return;
  const roles = tailRoles(values.topic);
  const since = values.since === undefined ? undefined : parseSince(values.since, 'tail');
  const { kafka, registry, clientId, settings } = await connectCli('capture-worker-tail', env);
  const byTopic = new Map(roles.map((role) => [settings.topics[role], role === 'dlq' ? undefined : TOPIC_CONTRACT[role].event]));
  const { codec } = registry;
  await readTopics(kafka, { topics: [...byTopic.keys()], groupPrefix: clientId, since, follow: values.follow, stop: values.follow ? signalled() : undefined }, async (record) => {
    if (values.key !== undefined && record.key?.toString() !== values.key) return;
    const name = byTopic.get(record.topic);
    const row = tailRow(record, name ? await codec.decode(name, record.value) : undefined);
    process.stdout.write(`${values.json ? JSON.stringify(row) : tailLine(row)}\n`);
  });
}
