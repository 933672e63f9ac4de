/**
 * Retries at any backlog in bounded memory: --pending retries waiting in the longest tier (written
 * as the worker writes them: due that tier's delay after they are written, spread over every
 * partition) while --near retries due about a second later go through the shortest tier. The
 * worker must fire every near one on time, none early, each once, and hold nothing for the
 * pending ones: its RSS is sampled every second for the whole run. --restart replaces it halfway
 * through the near ones as a rolling update does: a new instance joins, then the old one gets SIGTERM.
 *
 *   npx tsx bench/retry-tiers.ts [--pending 1000000] [--near 1000] [--partitions 12] [--restart]
 *
 * The pending ones are left in their tier (not waited for: at this machine's ~1000 captures/s,
 * working off a million would take a quarter of an hour); the report shows they are all still
 * there, uncommitted and uncalled. Results: bench/results/retry-tiers-latest.json.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { printedUsage } from './lib/usage';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Message } from 'kafkajs';
import { loadTopicSettings } from '../src/config/config';
import { EventCodec } from '../src/events/event-codec';
import type { CaptureRequested } from '../src/events/types.generated';
import { RETRY_HEADERS, retryHeaders } from '../src/retry/retry-headers';
import { build, ROOT } from './lib/build';
import { benchKafka, createTopics, freshTopics, OutcomeCollector, percentile, topicList, withAdmin } from './lib/kafka';
import { Proc, runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess, workerEnv } from './lib/setup';

const TARGET_RSS_MB = 300;
const TARGET_P99_MS = 1000;
const log = (line: string): void => void process.stdout.write(`${line}\n`);

function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

async function main(): Promise<number> {
  if (printedUsage(__filename)) return 0;
  const { values } = parseArgs({
    options: {
      pending: { type: 'string', default: '1000000' },
      near: { type: 'string', default: '1000' },
      partitions: { type: 'string', default: '12' },
      restart: { type: 'boolean', default: false },
    },
  });
  const pending = Number(values.pending);
  const nearCount = Number(values.near);
  const partitions = Number(values.partitions);
  stopChildrenOnExit();
  const stack = await ensureStack();
  const entry = build();
  const dir = mkdtempSync(join(tmpdir(), 'bench-tiers-'));
  const kafka = benchKafka(stack.brokers);
  const codec = EventCodec.forUrl(stack.registryUrl);
  const topics = freshTopics('bench-tiers');
  const tiers = loadTopicSettings({ TOPIC_RETRY: topics.retry }).tiers;
  const [shortest, longest] = [tiers[0], tiers[tiers.length - 1]];
  log(`retry tiers bench · ${pending} pending in ${longest.topic} + ${nearCount} due ${shortest.label} later through ${shortest.topic} · K=${partitions} · ${gitDescribe()}`);
  const workers: Proc[] = [];
  try {
    await withAdmin(kafka, (admin) => createTopics(admin, topics, partitions));
    await codec.useSubject('CaptureRequested', topics.requested);
    const keys = await makeKeys(dir);
    const sandbox = await startSandboxProcess(entry, keys, 0);
    const env = workerEnv(stack, keys, sandbox.url, topics, {});
    const startWorker = async (): Promise<{ proc: Proc; port: number }> => {
      const proc = new Proc(`worker#${workers.length + 1}`, process.execPath, [...entry.worker, 'run'], env, false);
      workers.push(proc);
      const port = Number((await proc.waitFor(/"healthPort":(\d+)/, 60_000))[1]);
      await proc.waitFor(/partitions assigned/, 60_000);
      return { proc, port };
    };
    let { proc: worker, port } = await startWorker();
    const heapMb = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text().catch(() => '');
      const line = text?.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes '));
      return line ? Number(line.split(' ')[1]) / 2 ** 20 : NaN;
    };
    const collector = await OutcomeCollector.start(kafka, [topics.succeeded, topics.failed, topics.unknown]);
    const rss: number[] = [];
    const sampler = setInterval(() => worker.alive && rss.push(rssMb(worker.pid)), 1000);

    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const firstAttemptAt = Date.now() - 1000;
    const record = (key: string, delayMs: number, partition: number): Message => {
      const value: CaptureRequested = { paymentId: `pay-${key}`, captureAmount: { currency: 'USD', value: '100' }, requestedAt: firstAttemptAt, metadata: {} };
      return { key, value: codec.encode('CaptureRequested', value), partition, headers: retryHeaders({ attempt: 2, dueAt: Date.now() + delayMs, firstAttemptAt }) };
    };
    // Near ones are spread over the whole write, so they fire while the pending ones are still arriving.
    const nearDue = new Map<string, number>();
    const sendNear = async (): Promise<void> => {
      const near = Array.from({ length: Math.min(10, nearCount - nearDue.size) }, (_, i) => record(`near-${nearDue.size + i}`, shortest.delayMs, i % partitions));
      await producer.send({ topic: shortest.topic, messages: near });
      for (const m of near) nearDue.set(m.key as string, Number(m.headers![RETRY_HEADERS.dueAt]));
    };
    const batch = 2000;
    const nearEvery = Math.max(1, Math.floor(pending / batch / Math.max(1, nearCount / 10)));
    const written0 = Date.now();
    let written = 0;
    let restarted = false;
    for (let b = 0; written < pending; b++) {
      const far = Array.from({ length: Math.min(batch, pending - written) }, (_, i) => record(`far-${written + i}`, longest.delayMs, (written + i) % partitions));
      await producer.send({ topic: longest.topic, messages: far, acks: -1 });
      written += far.length;
      if (b % nearEvery === 0 && nearDue.size < nearCount) await sendNear();
      if (values.restart && !restarted && nearDue.size >= nearCount / 2) {
        restarted = true;
        log(`  ${written} pending written, ${nearDue.size} near: starting a second worker, then SIGTERM to the first (pid ${worker.pid})`);
        const old = worker;
        ({ proc: worker, port } = await startWorker());
        await old.stop();
      }
      if (b % 50 === 0)
        log(`  ${written}/${pending} pending written, ${nearDue.size} near, ${collector.count} outcomes, worker RSS ${rssMb(worker.pid).toFixed(0)} MB, heap used ${(await heapMb()).toFixed(0)} MB`);
    }
    while (nearDue.size < nearCount) await sendNear();
    await producer.disconnect();
    log(`wrote ${written} pending in ${((Date.now() - written0) / 1000).toFixed(0)} s; waiting for the near ones`);
    const deadline = Date.now() + 120_000;
    while ([...nearDue.keys()].some((k) => !collector.outcomes.has(k)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // A little longer, so a late duplicate or an early far one would be seen.
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);

    const late = [...nearDue]
      .filter(([k]) => collector.outcomes.has(k))
      .map(([k, due]) => collector.outcomes.get(k)!.timestamp - due)
      .sort((a, b) => a - b);
    const farDone = [...collector.outcomes.keys()].filter((k) => k.startsWith('far-')).length;
    const [ends, [committed]] = await withAdmin(kafka, (admin) => Promise.all([admin.fetchTopicOffsets(longest.topic), admin.fetchOffsets({ groupId: topics.group, topics: [longest.topic] })]));
    const committedSum = committed?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
    const stillPending = ends.reduce((sum, p) => sum + Number(p.high), 0) - committedSum;
    const result = {
      commit: gitDescribe(),
      pending,
      near: nearCount,
      restart: values.restart,
      nearDone: late.length,
      lateness: { p50: percentile(late, 50), p99: percentile(late, 99), max: late[late.length - 1] ?? NaN },
      early: late.filter((ms) => ms < 0).length,
      duplicates: collector.duplicates,
      farDone,
      stillPending,
      peakRssMb: Math.max(...rss),
      rssMb: { first: rss[0], last: rss[rss.length - 1] },
    };
    const ok =
      result.nearDone === nearCount &&
      result.early === 0 &&
      result.duplicates === 0 &&
      result.farDone === 0 &&
      stillPending === pending &&
      result.peakRssMb <= TARGET_RSS_MB &&
      result.lateness.p99 <= TARGET_P99_MS;
    log(
      `\nnear retries: ${result.nearDone}/${nearCount} fired · lateness p50 ${result.lateness.p50} ms, p99 ${result.lateness.p99} ms (target ≤ ${TARGET_P99_MS}), max ${result.lateness.max} ms · early ${result.early} · duplicate outcomes ${result.duplicates}`,
    );
    log(`pending retries: ${stillPending} still in ${longest.topic}, uncommitted; ${farDone} called early`);
    log(
      `worker RSS: peak ${result.peakRssMb.toFixed(0)} MB (target ≤ ${TARGET_RSS_MB}), ${result.rssMb.first?.toFixed(0)} MB at start, ${result.rssMb.last?.toFixed(0)} MB at the end${values.restart ? ' (a rolling restart halfway: second instance joined, first got SIGTERM)' : ''}`,
    );
    log(ok ? 'PASS' : 'MISS');
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'retry-tiers-latest.json'), JSON.stringify(result, null, 2));
    await collector.stop();
    await sandbox.proc.stop();
    return ok ? 0 : 1;
  } finally {
    await stopAll();
    await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: topicList(topics) })).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
