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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { EventCodec } from '../src/events/event-codec';
import { EventRegistry } from '../src/events/registry';
import type { CaptureRequested } from '../src/events/types.generated';
import type { RetryTier } from '../src/retry/tiers';
import { RETRY_HEADERS, retryHeaders } from '../src/retry/retry-headers';
import { sleep } from '../src/util/sleep';
import { build } from './lib/build';
import { benchArgs, stringOptions, log, nonNegative } from './lib/cli';
import { benchKafka, createTopics, freshTopics, OutcomeCollector, retryTiers, topicList, type BenchTopics, withAdmin } from './lib/kafka';
import { scrapeMetrics } from './lib/metrics';
import { Proc, runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { percentile, writeResult } from './lib/report';
import { every } from './lib/sampler';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess, workerEnv } from './lib/setup';

const TARGET_RSS_MB = 300;
const TARGET_P99_MS = 1000;
const BATCH = 2000;

interface Run {
  pending: number;
  nearCount: number;
  partitions: number;
  restart: boolean;
  kafka: Kafka;
  codec: EventCodec;
  topics: BenchTopics;
  shortest: RetryTier;
  longest: RetryTier;
}

/** The worker instances, one after the other (two with --restart), and the RSS of the current one every second. */
class Workers {
  readonly procs: Proc[] = [];
  readonly rss: number[] = [];
  /** Undefined until the first instance has joined; the RSS sampler runs from the start. */
  current: { proc: Proc; port: number } | undefined;
  private readonly sampler = every(1000, () => this.current?.proc.alive && this.rss.push(this.current.proc.rssMb()));

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(): Promise<void> {
    const proc = new Proc(`worker#${this.procs.length + 1}`, process.execPath, this.args, this.env, false);
    this.procs.push(proc);
    const port = Number((await proc.waitFor(/"healthPort":(\d+)/, 60_000))[1]);
    await proc.waitFor(/partitions assigned/, 60_000);
    this.current = { proc, port };
  }

  /** A rolling update: the next instance joins, then the current one gets SIGTERM. */
  async roll(): Promise<void> {
    const old = this.current!.proc;
    await this.start();
    await old.stop();
  }

  async heapMb(): Promise<number> {
    const used = (await scrapeMetrics(this.current!.port))?.sum('nodejs_heap_size_used_bytes');
    return used === undefined ? NaN : used / 2 ** 20;
  }

  stopSampling(): void {
    this.sampler.stop();
  }
}

/** Writes the pending retries into the longest tier, the near ones through the shortest spread over the write; with --restart, a rolling restart halfway. */
async function write(r: Run, producer: Producer, workers: Workers, collector: OutcomeCollector): Promise<Map<string, number>> {
  const firstAttemptAt = Date.now() - 1000;
  const record = (key: string, delayMs: number, partition: number): Message => {
    const value: CaptureRequested = { paymentId: `pay-${key}`, captureAmount: { currency: 'USD', value: '100' }, requestedAt: firstAttemptAt, metadata: {} };
    return { key, value: r.codec.encode('CaptureRequested', value), partition, headers: retryHeaders({ attempt: 2, dueAt: Date.now() + delayMs, firstAttemptAt }) };
  };
  // Near ones are spread over the whole write, so they fire while the pending ones are still arriving.
  const nearDue = new Map<string, number>();
  const sendNear = async (): Promise<void> => {
    const near = Array.from({ length: Math.min(10, r.nearCount - nearDue.size) }, (_, i) => record(`near-${nearDue.size + i}`, r.shortest.delayMs, i % r.partitions));
    await producer.send({ topic: r.shortest.topic, messages: near });
    for (const m of near) nearDue.set(m.key as string, Number(m.headers![RETRY_HEADERS.dueAt]));
  };
  const nearEvery = Math.max(1, Math.floor(r.pending / BATCH / Math.max(1, r.nearCount / 10)));
  const written0 = Date.now();
  let written = 0;
  let restarted = false;
  for (let b = 0; written < r.pending; b++) {
    const far = Array.from({ length: Math.min(BATCH, r.pending - written) }, (_, i) => record(`far-${written + i}`, r.longest.delayMs, (written + i) % r.partitions));
    await producer.send({ topic: r.longest.topic, messages: far, acks: -1 });
    written += far.length;
    if (b % nearEvery === 0 && nearDue.size < r.nearCount) await sendNear();
    if (r.restart && !restarted && nearDue.size >= r.nearCount / 2) {
      restarted = true;
      log(`  ${written} pending written, ${nearDue.size} near: starting a second worker, then SIGTERM to the first (pid ${workers.current!.proc.pid})`);
      await workers.roll();
    }
    if (b % 50 === 0)
      log(
        `  ${written}/${r.pending} pending written, ${nearDue.size} near, ${collector.count} outcomes, worker RSS ${workers.current!.proc.rssMb().toFixed(0)} MB, heap used ${(await workers.heapMb()).toFixed(0)} MB`,
      );
  }
  while (nearDue.size < r.nearCount) await sendNear();
  log(`wrote ${written} pending in ${((Date.now() - written0) / 1000).toFixed(0)} s; waiting for the near ones`);
  return nearDue;
}

/** The verdict: near ones on time, none early or twice, the pending ones untouched, RSS bounded. */
async function judge(r: Run, nearDue: Map<string, number>, collector: OutcomeCollector, rss: number[]): Promise<{ result: Record<string, unknown>; ok: boolean }> {
  const late = [...nearDue]
    .filter(([k]) => collector.outcomes.has(k))
    .map(([k, due]) => collector.outcomes.get(k)!.timestamp - due)
    .sort((a, b) => a - b);
  const farDone = [...collector.outcomes.keys()].filter((k) => k.startsWith('far-')).length;
  const [ends, groupOffsets] = await withAdmin(r.kafka, (admin) => Promise.all([admin.fetchTopicOffsets(r.longest.topic), admin.fetchOffsets({ groupId: r.topics.group, topics: [r.longest.topic] })]));
  const committedSum = groupOffsets.at(0)?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
  const stillPending = ends.reduce((sum, p) => sum + Number(p.high), 0) - committedSum;
  const result = {
    commit: gitDescribe(),
    pending: r.pending,
    near: r.nearCount,
    restart: r.restart,
    nearDone: late.length,
    lateness: { p50: percentile(late, 50), p99: percentile(late, 99), max: late[late.length - 1] ?? NaN },
    early: late.filter((ms) => ms < 0).length,
    duplicates: collector.duplicates,
    farDone,
    stillPending,
    peakRssMb: Math.max(...rss),
    rssMb: { first: rss.at(0), last: rss.at(-1) },
  };
  const ok =
    result.nearDone === r.nearCount &&
    result.early === 0 &&
    result.duplicates === 0 &&
    result.farDone === 0 &&
    stillPending === r.pending &&
    result.peakRssMb <= TARGET_RSS_MB &&
    result.lateness.p99 <= TARGET_P99_MS;
  log(
    `\nnear retries: ${result.nearDone}/${r.nearCount} fired · lateness p50 ${result.lateness.p50} ms, p99 ${result.lateness.p99} ms (target ≤ ${TARGET_P99_MS}), max ${result.lateness.max} ms · early ${result.early} · duplicate outcomes ${result.duplicates}`,
  );
  log(`pending retries: ${stillPending} still in ${r.longest.topic}, uncommitted; ${farDone} called early`);
  log(
    `worker RSS: peak ${result.peakRssMb.toFixed(0)} MB (target ≤ ${TARGET_RSS_MB}), ${result.rssMb.first?.toFixed(0) ?? 'undefined'} MB at start, ${result.rssMb.last?.toFixed(0) ?? 'undefined'} MB at the end${r.restart ? ' (a rolling restart halfway: second instance joined, first got SIGTERM)' : ''}`,
  );
  log(ok ? 'PASS' : 'MISS');
  return { result, ok };
}

async function main(): Promise<number> {
  const values = benchArgs(__filename, {
    ...stringOptions({ pending: '1000000', near: '1000', partitions: '12' }),
    restart: { type: 'boolean', default: false },
  });
  if (!values) return 0;
  stopChildrenOnExit();
  const stack = await ensureStack();
  const entry = build();
  const dir = mkdtempSync(join(tmpdir(), 'bench-tiers-'));
  const topics = freshTopics('bench-tiers');
  const tiers = retryTiers(topics);
  const r: Run = {
    pending: nonNegative('pending', values.pending),
    nearCount: nonNegative('near', values.near),
    partitions: nonNegative('partitions', values.partitions),
    restart: values.restart,
    kafka: benchKafka(stack.brokers),
    codec: EventRegistry.forUrl(stack.registryUrl).codec,
    topics,
    shortest: tiers[0],
    longest: tiers[tiers.length - 1],
  };
  log(`retry tiers bench · ${r.pending} pending in ${r.longest.topic} + ${r.nearCount} due ${r.shortest.label} later through ${r.shortest.topic} · K=${r.partitions} · ${gitDescribe()}`);
  try {
    await withAdmin(r.kafka, (admin) => createTopics(admin, topics, r.partitions));
    await r.codec.useSubject('CaptureRequested', topics.requested);
    const keys = await makeKeys(dir);
    const sandbox = await startSandboxProcess(entry, keys, 0);
    const workers = new Workers([...entry.worker, 'run'], workerEnv(stack, keys, sandbox.url, topics));
    await workers.start();
    const collector = await OutcomeCollector.start(r.kafka, topics);
    const producer = r.kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const nearDue = await write(r, producer, workers, collector);
    await producer.disconnect();
    const deadline = Date.now() + 120_000;
    while ([...nearDue.keys()].some((k) => !collector.outcomes.has(k)) && Date.now() < deadline) await sleep(200);
    // A little longer, so a late duplicate or an early far one would be seen.
    await sleep(3000);
    workers.stopSampling();
    const { result, ok } = await judge(r, nearDue, collector, workers.rss);
    writeResult('retry-tiers-latest.json', result);
    await collector.stop();
    await sandbox.proc.stop();
    return ok ? 0 : 1;
  } finally {
    await stopAll();
    await withAdmin(r.kafka, (admin) => admin.deleteTopics({ topics: topicList(topics) })).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
