/**
 * The fault campaign engine (bench/fault-campaign.ts is its command line; the short CI version is
 * test/integration/campaign/fault-campaign-short.test.ts).
 *
 * Fresh topics; N CaptureRequested events, a share of them scripted unknowns (`unknown-<1..3>-`),
 * published at a steady rate; the worker (`capture-worker run`, one instance at a time, one fixed
 * TRANSACTIONAL_ID so a restart fences its predecessor) is killed with SIGKILL at random points and
 * restarted after a short pause, and restarted whenever it exits on its own (as Kubernetes would);
 * the shared native Kafka broker is restarted once (SIGTERM, same config and data) and frozen; the
 * sandbox is killed, kept down for the outage, and restarted on the same port with the same keys.
 * The run goes on until every request has a terminal outcome (or the timeout), then every outcome,
 * DLQ and request record is read to the end offsets with a read_committed reader and counted per key.
 *
 * The parts: campaign/plan.ts (what faults when), campaign/phases.ts (running them),
 * campaign/analysis.ts (the verdict) and campaign/summary.ts (the report); the processes in
 * campaign/workers.ts, campaign/sandbox-host.ts and campaign/broker.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { readTopics, type ReadRecord } from '../../src/cli/topic-reader';
import { EventRegistry } from '../../src/events/registry';
import { brokersFor, stackPorts } from '../../tools/stack/layout';
import { build, type Entrypoints } from './build';
import { analyse } from './campaign/analysis';
import { ensureBrokerUp, nativeBrokerInUse } from './campaign/broker';
import { Clock, type CampaignContext } from './campaign/context';
import { RequestFeed } from './campaign/feed';
import { LiveOutcomes } from './campaign/live-outcomes';
import { FaultRunner } from './campaign/phases';
import { planFaults, rng } from './campaign/plan';
import { SandboxHost } from './campaign/sandbox-host';
import { Timeline } from './campaign/timeline';
import { DEFAULT_OPTIONS, type CampaignOptions, type CampaignResult, type FaultRecord, type Log } from './campaign/types';
import { WorkerSupervisor } from './campaign/workers';
import { dispositionTopics } from '../../src/events/contract';
import { benchKafka, createTopics, freshTopics, RequestProducer, topicList, type BenchTopics, withAdmin } from './kafka';
import { stampNow } from './report';
import { ensureStack, gitDescribe, makeKeys, workerEnv, type Stack } from './setup';
import { errorMessage } from '../../src/util/errors';

export { freezeBroker, listenerPid, nativeBrokerInUse } from './campaign/broker';
export { planFaults } from './campaign/plan';
export { outageTimelineLines, summaryLines } from './campaign/summary';
export * from './campaign/types';

/** What a run is set up with before any process starts. */
interface Setup {
  o: CampaignOptions;
  log: Log;
  stack: Stack;
  entry: Entrypoints;
  topics: BenchTopics;
  kafka: Kafka;
  registry: EventRegistry;
  faults: FaultRecord[];
  /** Streams of their own, so the fault plan depends on the seed alone. */
  eventRandom: () => number;
  pauseRandom: () => number;
  stamp: string;
  keyDir: string;
  logDir: string;
  /** The native broker is in use: it is checked (and started again if need be) at the end. */
  brokerAtStart: boolean;
  runStart: number;
}

/** The processes and clients started so far, stopped at the end whatever happened. */
type Parts = Partial<Pick<CampaignContext, 'supervisor' | 'sandbox' | 'live'>> & { producer?: RequestProducer; timeline?: Timeline };

export async function runCampaign(options: Partial<CampaignOptions>, log: Log): Promise<CampaignResult> {
  const s = await setUp({ ...DEFAULT_OPTIONS, ...options }, log);
  const parts: Parts = {};
  let result: CampaignResult | undefined;
  let failure: unknown;
  try {
    const c = await startProcesses(s, parts);
    result = await execute(s, c, parts.timeline!);
    return result;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await tearDown(s, parts, result, failure);
  }
}

async function setUp(o: CampaignOptions, log: Log): Promise<Setup> {
  const stack = await ensureStack();
  if ((o.brokerRestart || o.stalls.length > 0) && !nativeBrokerInUse(stack.brokers)) {
    throw new Error(
      `the broker restart needs the native stack's broker (${brokersFor(stackPorts())}, pid file in .stack/pids) to be the one in use (${stack.brokers}); pass --no-broker-restart --stalls ''`,
    );
  }
  const entry = build(o.tsx);
  const topics = freshTopics('faults');
  const keyDir = mkdtempSync(join(tmpdir(), 'fault-campaign-'));
  const logDir = o.logDir ?? join(keyDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const faults = planFaults(o, rng(o.seed));
  const s: Setup = {
    o,
    log,
    stack,
    entry,
    topics,
    kafka: benchKafka(stack.brokers),
    registry: EventRegistry.forUrl(stack.registryUrl),
    faults,
    eventRandom: rng(o.seed + 1),
    pauseRandom: rng(o.seed + 2),
    stamp: stampNow(),
    keyDir,
    logDir,
    brokerAtStart: o.brokerRestart || o.stalls.length > 0 || nativeBrokerInUse(stack.brokers),
    runStart: Date.now(),
  };
  log(
    `fault campaign ${topics.id} · ${o.events} requests (${(o.unknownShare * 100).toFixed(0)}% scripted unknowns) at ${o.rate || 'all at once'}/s · ${o.partitions} partitions · MAX_IN_FLIGHT=${o.inflight} · sandbox latency ${o.latencyMs}±${o.jitterMs} ms · seed ${o.seed}`,
  );
  log(`kafka ${stack.brokers} · registry ${stack.registryUrl} · ${gitDescribe()} · processes as ${entry.mode === 'js' ? 'compiled JS (bench/.build)' : 'tsx'} · logs in ${logDir}`);
  log(`plan: ${faults.map((f) => `${f.kind}@${f.plannedAt.toFixed(1)}s`).join(', ')}`);
  return s;
}

/** Topics, sandbox, request producer, live consumer and the first worker; t0 is when it has joined its group. */
async function startProcesses(s: Setup, parts: Parts): Promise<CampaignContext> {
  const { o, log, topics, kafka, registry } = s;
  const { codec } = registry;
  await withAdmin(kafka, (admin) => createTopics(admin, topics, o.partitions));
  const keyFiles = await makeKeys(s.keyDir);
  const sandbox = (parts.sandbox = new SandboxHost(s.entry, keyFiles, o));
  await sandbox.start();
  const producer = (parts.producer = await RequestProducer.create(kafka, codec, topics.requested, topics.id));
  // The contract's schemas under the run's subjects, as `init` registers them before a worker starts.
  await registry.registerEvents(topics);
  const live = (parts.live = new LiveOutcomes(kafka, codec, topics, log));
  await live.start();
  const env = workerEnv(
    s.stack,
    keyFiles,
    sandbox.url,
    topics,
    {
      TRANSACTIONAL_ID: `${topics.id}-tx`,
      MAX_IN_FLIGHT: o.inflight,
      LOG_LEVEL: o.logLevel,
      RETRY_BASE_DELAY_MS: o.retryBaseDelayMs,
      RETRY_MAX_DELAY_MS: o.retryMaxDelayMs,
      SHUTDOWN_GRACE_MS: 10_000,
    },
    o.extraEnv,
  );
  const clock = new Clock();
  const supervisor = (parts.supervisor = new WorkerSupervisor([...s.entry.worker, 'run'], env, () => clock.t0, log, o));
  await supervisor.start('first start').proc.waitFor(/partitions assigned/, 90_000);
  clock.reset();
  log(`worker#1 joined its group; t0`);
  const feed = new RequestFeed(producer, codec, topics.id, o, s.eventRandom, log, clock.ts);
  const c: CampaignContext = { o, log, clock, supervisor, sandbox, feed, live, brokerAway: false };
  parts.timeline = new Timeline(c);
  return c;
}

/** Requests and faults until every request has a terminal outcome; then the worker is stopped and every record read. */
async function execute(s: Setup, c: CampaignContext, timeline: Timeline): Promise<CampaignResult> {
  const { log, clock, supervisor } = c;
  const producing = c.feed.run();
  producing.catch(() => undefined);
  timeline.start();
  const faults = new FaultRunner(c, s.pauseRandom);
  const finished = await faults.run(s.faults, timeline);
  await producing.catch((e: unknown) => log(`producer failed: ${errorMessage(e)}`));
  const elapsedSec = clock.since();
  log(`${clock.ts()} ${finished ? 'every request has a terminal outcome' : 'stopping (not finished)'}; stopping the worker (SIGTERM)`);
  log(`  last worker exited with ${(await supervisor.stop()) ?? 'null'}`);
  timeline.stop();
  await c.live.stop();

  // The authoritative count: every committed record, read from the beginning to the end offsets.
  log('reading every outcome, DLQ and request record (read_committed, to the end offsets)…');
  const records: ReadRecord[] = [];
  await readTopics(s.kafka, { topics: [...dispositionTopics(s.topics), s.topics.requested], groupPrefix: 'campaign-final' }, (r) => void records.push(r));
  await c.sandbox.stats(5000);
  return analyse({
    o: s.o,
    stamp: s.stamp,
    runId: s.topics.id,
    processes: s.entry.mode,
    elapsedSec,
    finished,
    keys: c.feed.keys,
    records,
    topics: s.topics,
    codec: s.registry.codec,
    supervisor,
    faults: s.faults,
    timeline: timeline.samples,
    found: faults.found,
    vendorIncarnations: c.sandbox.incarnations,
    logDir: s.logDir,
    t0: clock.t0,
  });
}

async function tearDown(s: Setup, parts: Parts, result: CampaignResult | undefined, failure: unknown): Promise<void> {
  const { o, log } = s;
  parts.timeline?.stop();
  await parts.supervisor?.stop().catch(() => undefined);
  await parts.live?.stop().catch(() => undefined);
  await parts.producer?.disconnect().catch(() => undefined);
  await parts.sandbox?.stop();
  await s.registry.close();
  writeLogs(s.logDir, parts);
  const healthy = await brokerHealthy(s);
  if (result) result.broker.healthyAtEnd = healthy;
  if (!o.keepTopics) {
    await withAdmin(s.kafka, (admin) => admin.deleteTopics({ topics: topicList(s.topics), timeout: 30_000 })).catch((e: unknown) =>
      log(`warning: could not delete campaign topics: ${errorMessage(e)}`),
    );
  }
  // A worker that exited on its own is as worth a look as a lost or duplicated outcome.
  const clean = !failure && result && result.lost === 0 && result.duplicates === 0 && result.workerRestarts.afterExit === 0 && result.workerRestarts.afterHang === 0;
  if (!o.logDir && clean) rmSync(s.keyDir, { recursive: true, force: true });
  else rmSync(join(s.keyDir, 'merchant.pem'), { force: true });
  if (!clean) log(`logs kept in ${s.logDir}`);
  log(`campaign took ${((Date.now() - s.runStart) / 1000).toFixed(0)}s in all`);
}

/** Logs of every process, for explaining what happened. */
function writeLogs(logDir: string, parts: Parts): void {
  for (const inst of parts.supervisor?.instances ?? []) {
    const file = join(logDir, `worker-${inst.n}.log`);
    writeFileSync(file, inst.proc.tail(Number.MAX_SAFE_INTEGER) + '\n');
    inst.log = file;
  }
  parts.sandbox?.procs.forEach((p, i) => writeFileSync(join(logDir, `sandbox-${i + 1}.log`), p.tail(Number.MAX_SAFE_INTEGER) + '\n'));
}

async function brokerHealthy(s: Setup): Promise<boolean> {
  if (!s.brokerAtStart) return withAdmin(s.kafka, async (admin) => (await admin.describeCluster()).brokers.length > 0).catch(() => false);
  const healthy = await ensureBrokerUp(s.log).catch((e: unknown) => {
    s.log(`broker could not be brought back: ${errorMessage(e)}`);
    return false;
  });
  s.log(`broker ${healthy ? 'running and answering' : 'NOT healthy'} (${brokersFor(stackPorts())})`);
  return healthy;
}
