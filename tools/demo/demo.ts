// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../../src/app/install-aborted-filter';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { Kafka, logLevel } from 'kafkajs';
import { generateKeyPair } from '../../src/api/keys';
import { ensureTopics } from '../../src/app/topics';
import { startWorkerApp } from '../../src/app/worker-app';
import { parseTiers } from '../../src/retry/tiers';
import { headerText, readTopics, type ReadRecord } from '../../src/cli/topic-reader';
import { loadConfig } from '../../src/config/config';
import { dispositionTopics, prefixedTopics, roleOf, TOPIC_CONTRACT, type TopicNames } from '../../src/events/contract';
import { sandboxWorkerEnv } from '../worker-env';
import type { EventCodec } from '../../src/events/event-codec';
import { EventRegistry } from '../../src/events/registry';
import { startSandbox } from '../sandbox/server';
import { stackDir } from '../stack/layout';
import { stackUp } from '../stack/native-stack';
import { sampleRecords } from './sample-events';
import { errorMessage } from '../../src/util/errors';

const say = (line: string) => console.log(`[demo] ${line}`);

/**
 * The whole product on one machine: Kafka and the registry, the sandbox with fresh keys, the
 * worker, a few hundred requests covering every scenario, and a summary of what came out.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const stack = await stackUp((line) => say(line));
  const runId = `demo-${new Date().toISOString().slice(11, 19).replace(/:/g, '')}-${randomUUID().slice(0, 4)}`;
  const keyDir = path.join(stackDir(), 'demo-keys');
  mkdirSync(keyDir, { recursive: true });
  const merchant = await generateKeyPair({ privateKeyFile: path.join(keyDir, 'merchant-private.pem'), publicKeyFile: path.join(keyDir, 'merchant-public.pem') });
  const sandbox = await startSandbox({ port: 0, merchantPublicKey: merchant.publicKey, latencyMs: 20, jitterMs: 30, timeoutDelayMs: 2500 });
  say(`sandbox on ${sandbox.url}`);

  const topics = prefixedTopics(runId);
  const kafka = new Kafka({ clientId: 'capture-worker-demo', brokers: [stack.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // Short tiers, so the demo's scripted unknowns resolve within seconds.
  const retryTierSpec = '500ms,2s';
  await ensureTopics(admin, [...Object.values(topics), ...parseTiers(retryTierSpec, topics.retry).map((tier) => tier.topic)], { partitions: 6, replicationFactor: 1, minInsyncReplicas: 1 });
  await admin.disconnect();
  const registry = EventRegistry.forUrl(stack.registryUrl);
  await registry.registerEvents(topics);
  say(`topics ${runId}.* created, schemas registered`);

  const env = sandboxWorkerEnv(
    {
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      sandboxUrl: sandbox.url,
      clientId: 'SANDBOX_DEMO',
      merchantPrivateKey: { file: path.join(keyDir, 'merchant-private.pem') },
      sandboxPublicKey: { pem: sandbox.publicKey.export({ format: 'pem', type: 'spki' }).toString() },
      topics,
      groupId: `${runId}-worker`,
    },
    { API_TIMEOUT_MS: 1000, RETRY_TIERS: retryTierSpec, RETRY_BASE_DELAY_MS: 300, RETRY_MAX_DELAY_MS: 2000, LOG_LEVEL: 'silent' },
  );
  const worker = await startWorkerApp(loadConfig(env));
  say(`worker running (metrics: http://127.0.0.1:${worker.healthPort}/metrics)`);

  const { codec } = registry;
  await codec.useSubject('CaptureRequested', topics.requested);
  const records = sampleRecords(runId);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topics.requested,
    messages: records.map((r) => ({ key: r.key, value: r.value === null || Buffer.isBuffer(r.value) ? r.value : codec.encode('CaptureRequested', r.value) })),
  });
  await producer.disconnect();
  say(`published ${records.length} CaptureRequested events`);

  await followOutcomes(kafka, codec, topics, records.length);
  await worker.stop();
  await sandbox.close();
  const summary = await summarize(kafka, codec, topics, records.length);
  await registry.close();
  printSummary(summary, records.length, Date.now() - started);
}

type Summary = Map<string, { count: number; attempts: number }>;

/** The outcome and DLQ topics the demo reads. */
const readTopicsOf = dispositionTopics;

/** A terminal outcome's summary row and attempts; undefined for an unknown that will be retried. */
async function terminalRow(codec: EventCodec, topics: TopicNames, record: ReadRecord): Promise<{ row: string; attempts: number } | undefined> {
  const role = roleOf(topics, record.topic);
  if (role === 'dlq') return { row: `DLQ         ${headerText(record.headers)['dlq-reason']}`, attempts: 0 };
  if (role === 'unknown') {
    const event = await codec.decode(TOPIC_CONTRACT.unknown.event, record.value);
    return event.final ? { row: `unknown     ${event.result.resultCode} (final)`, attempts: event.attempt } : undefined;
  }
  if (role !== 'succeeded' && role !== 'failed') throw new Error(`record of ${record.topic}, not an outcome topic`);
  const event = await codec.decode(TOPIC_CONTRACT[role].event, record.value);
  return { row: `${role.padEnd(9)}   ${event.result.resultCode}`, attempts: event.attempt };
}

/** A progress bar while the worker runs, until `expected` terminal outcomes are committed (or 3 minutes pass). */
async function followOutcomes(kafka: Kafka, codec: EventCodec, topics: TopicNames, expected: number): Promise<void> {
  const bar = new SingleBar({ format: '[demo] outcomes {bar} {value}/{total} terminal  ({unknowns} unknown attempts retried)', hideCursor: true }, Presets.shades_classic);
  bar.start(expected, 0, { unknowns: 0 });
  let done = 0;
  let unknowns = 0;
  let reached!: () => void;
  const stop = new Promise<void>((resolve) => (reached = resolve));
  const timeout = setTimeout(reached, 180_000);
  await readTopics(kafka, { topics: readTopicsOf(topics), groupPrefix: `${topics.requested}-demo-progress`, follow: true, stop }, async (record) => {
    if (await terminalRow(codec, topics, record)) done++;
    else unknowns++;
    bar.update(done, { unknowns });
    if (done >= expected) reached();
  });
  clearTimeout(timeout);
  bar.stop();
}

/** Every committed outcome and DLQ record, read to the end offsets once the worker has stopped. */
async function summarize(kafka: Kafka, codec: EventCodec, topics: TopicNames, expected: number): Promise<Summary> {
  const summary: Summary = new Map();
  const seen = new Set<string>();
  await readTopics(kafka, { topics: readTopicsOf(topics), groupPrefix: `${topics.requested}-demo-summary` }, async (record) => {
    const terminal = await terminalRow(codec, topics, record);
    if (!terminal) return;
    const key = record.key?.toString() ?? `(no key @${record.offset})`;
    const row = seen.has(key) ? `DUPLICATE   ${terminal.row}` : terminal.row;
    seen.add(key);
    const entry = summary.get(row) ?? { count: 0, attempts: 0 };
    summary.set(row, { count: entry.count + 1, attempts: entry.attempts + terminal.attempts });
  });
  if (seen.size < expected) throw new Error(`only ${seen.size} of ${expected} requests reached a terminal outcome within 3 minutes`);
  return summary;
}

const duplicates = (summary: Summary) => [...summary].filter(([row]) => row.startsWith('DUPLICATE')).reduce((n, [, { count }]) => n + count, 0);

function printSummary(summary: Summary, total: number, elapsedMs: number): void {
  console.log('\n  outcome     result code                          records   avg attempts');
  console.log(`  ${'-'.repeat(72)}`);
  for (const [row, { count, attempts }] of [...summary].sort()) {
    console.log(`  ${row.padEnd(50)} ${String(count).padStart(7)}   ${count && attempts ? (attempts / count).toFixed(1) : '-'}`);
  }
  const dup = duplicates(summary);
  console.log(`  ${'-'.repeat(72)}\n  ${total} requests, ${total - dup} distinct terminal outcomes, ${dup} duplicates, in ${(elapsedMs / 1000).toFixed(1)} s\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`[demo] failed: ${errorMessage(error)}`);
    process.exit(1);
  },
);
