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
import { loadConfig, TopicNames } from '../../src/config/config';
import { EventCodec } from '../../src/events/event-codec';
import { productSchemas, registerSchemas } from '../../src/events/schema-registration';
import type { CaptureUnknown } from '../../src/events/types.generated';
import { startSandbox } from '../sandbox/server';
import { stackDir } from '../stack/layout';
import { stackUp } from '../stack/native-stack';
import { sampleRecords } from './sample-events';

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

  const topics: TopicNames = {
    requested: `${runId}.requested`,
    succeeded: `${runId}.succeeded`,
    failed: `${runId}.failed`,
    unknown: `${runId}.unknown`,
    retry: `${runId}.retry`,
    dlq: `${runId}.dlq`,
  };
  const kafka = new Kafka({ clientId: 'capture-worker-demo', brokers: [stack.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // Short tiers, so the demo's scripted unknowns resolve within seconds.
  const retryTierSpec = '500ms,2s';
  await ensureTopics(admin, [...Object.values(topics), ...parseTiers(retryTierSpec, topics.retry).map((tier) => tier.topic)], { partitions: 6, replicationFactor: 1, minInsyncReplicas: 1 });
  await admin.disconnect();
  await registerSchemas(stack.registryUrl, productSchemas(topics));
  say(`topics ${runId}.* created, schemas registered`);

  const env: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: stack.brokers,
    SCHEMA_REGISTRY_URL: stack.registryUrl,
    ANTOM_BASE_URL: sandbox.url,
    ANTOM_SANDBOX: 'true',
    ANTOM_CLIENT_ID: 'SANDBOX_DEMO',
    ANTOM_PRIVATE_KEY_FILE: path.join(keyDir, 'merchant-private.pem'),
    ANTOM_PUBLIC_KEY: sandbox.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    GROUP_ID: `${runId}-worker`,
    API_TIMEOUT_MS: '1000',
    RETRY_TIERS: retryTierSpec,
    RETRY_BASE_DELAY_MS: '300',
    RETRY_MAX_DELAY_MS: '2000',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...Object.fromEntries(Object.entries(topics).map(([role, name]) => [`TOPIC_${role.toUpperCase()}`, name])),
  };
  const worker = await startWorkerApp(loadConfig(env));
  say(`worker running (metrics: http://127.0.0.1:${worker.healthPort}/metrics)`);

  const codec = EventCodec.forUrl(stack.registryUrl);
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

  const summary = await watchOutcomes(kafka, codec, topics, records.length);
  await worker.stop();
  await sandbox.close();
  printSummary(summary, records.length, Date.now() - started);
}

type Summary = Map<string, { count: number; attempts: number }>;

async function watchOutcomes(kafka: Kafka, codec: EventCodec, topics: TopicNames, expected: number): Promise<Summary> {
  const bar = new SingleBar({ format: '[demo] outcomes {bar} {value}/{total} terminal  ({unknowns} unknown attempts retried)', hideCursor: true }, Presets.shades_classic);
  bar.start(expected, 0, { unknowns: 0 });
  const summary: Summary = new Map();
  let done = 0;
  let unknowns = 0;
  const seen = new Set<string>();
  const consumer = kafka.consumer({ groupId: `${topics.requested}-demo-reader`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.succeeded, topics.failed, topics.unknown, topics.dlq], fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const add = (row: string, attempts: number, key: string) => {
    if (seen.has(key)) row = `DUPLICATE   ${row}`;
    seen.add(key);
    const entry = summary.get(row) ?? { count: 0, attempts: 0 };
    summary.set(row, { count: entry.count + 1, attempts: entry.attempts + attempts });
    done++;
  };
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const key = message.key?.toString() ?? `(no key @${message.offset})`;
      if (topic === topics.dlq) add(`DLQ         ${message.headers?.['dlq-reason']?.toString()}`, 0, key);
      else if (topic === topics.unknown) {
        const event = (await codec.decode('CaptureUnknown', message.value)) as CaptureUnknown;
        if (event.final) add(`unknown     ${event.result.resultCode} (final)`, event.attempt, key);
        else unknowns++;
      } else {
        const name = topic === topics.succeeded ? 'CaptureSucceeded' : 'CaptureFailed';
        const event = await codec.decode(name, message.value);
        add(`${topic === topics.succeeded ? 'succeeded' : 'failed   '}   ${event.result.resultCode}`, event.attempt, key);
      }
      bar.update(done, { unknowns });
      if (done >= expected) finish();
    },
  });
  const timeout = setTimeout(() => finish(), 180_000);
  await finished;
  clearTimeout(timeout);
  bar.stop();
  await consumer.disconnect();
  if (done < expected) throw new Error(`only ${done} of ${expected} requests reached a terminal outcome within 3 minutes`);
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
  (error: Error) => {
    console.error(`[demo] failed: ${error.message}`);
    process.exit(1);
  },
);
