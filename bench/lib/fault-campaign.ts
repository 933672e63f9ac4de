/**
 * The fault campaign engine (bench/fault-campaign.ts is its command line; the short CI version is
 * test/integration/campaign/fault-campaign-short.test.ts).
 *
 * Fresh topics; N CaptureRequested events, a share of them scripted unknowns (`unknown-<1..3>-`),
 * published at a steady rate; the worker (`capture-worker run`, one instance at a time, one fixed
 * TRANSACTIONAL_ID so a restart fences its predecessor) is killed with SIGKILL at random points and
 * restarted after a short pause, and restarted whenever it exits on its own (as Kubernetes would);
 * the shared native Kafka broker is restarted once (SIGTERM, same config and data); the sandbox is
 * killed, kept down for the outage, and restarted on the same port with the same keys. The run
 * goes on until every request has a terminal outcome (or the timeout), then every outcome topic is
 * read with a fresh read_committed consumer and counted per key.
 *
 * API call rate: sampled every second from the worker's own /metrics
 * (capture_api_latency_seconds_count: one observation per call, including refused connections),
 * from the sandbox's /sandbox/stats `calls` while it is up, and from the kernel's TCP AttemptFails
 * counter (/proc/net/snmp, refused connects in this network namespace) while it is down.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Kafka, Message } from 'kafkajs';
import { EventCodec } from '../../src/events/event-codec';
import type { CaptureRequested } from '../../src/events/types.generated';
import { kafkaAnswers, startKafka } from '../../tools/stack/kafka-broker';
import { brokersFor, stackPaths, stackPorts } from '../../tools/stack/layout';
import { managed, runningPid } from '../../tools/stack/processes';
import { build, type Entrypoints } from './build';
import { benchKafka, createTopics, freshTopics, RequestProducer, topicList, type BenchTopics, withAdmin } from './kafka';
import { Proc } from './proc';
import { ensureStack, gitDescribe, makeKeys, workerEnv, type KeyFiles, type Stack } from './setup';

export interface CampaignOptions {
  events: number;
  /** Share of requests with a scripted `unknown-<1..3>-` payment id. */
  unknownShare: number;
  kills: number;
  outageSeconds: number;
  /** Restart the shared broker once (needs the native stack's broker to be the one in use). */
  brokerRestart: boolean;
  /** Freeze the shared broker (SIGSTOP … SIGCONT) once for each of these many seconds, at random moments. */
  stalls: number[];
  /** Requests per second (0: all at once). */
  rate: number;
  partitions: number;
  inflight: number;
  latencyMs: number;
  jitterMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Pause between a kill -9 and the restart, ms (random in [min, max]). */
  killPauseMs: [number, number];
  /** Pause before restarting a worker that exited on its own. */
  crashRestartDelayMs: number;
  /** A worker still running this long after logging its fatal error is killed and restarted (and reported). */
  hangAfterFatalMs: number;
  /** Faults are placed in [2 s, span] after the first worker joined; default: the production time (at least 20 s + outage). */
  faultSpanSeconds?: number;
  /** Minimum distance between two kills, and between a kill and the broker restart. */
  minFaultGapSeconds: number;
  timeoutSeconds: number;
  seed: number;
  logLevel: string;
  tsx: boolean;
  verbose: boolean;
  keepTopics: boolean;
  /** Where worker and sandbox logs are written (default: a temporary folder, removed unless kept). */
  logDir?: string;
  extraEnv: NodeJS.ProcessEnv;
}

export const DEFAULT_OPTIONS: CampaignOptions = {
  events: 20_000,
  unknownShare: 0.2,
  kills: 5,
  outageSeconds: 30,
  brokerRestart: true,
  stalls: [20, 60],
  rate: 200,
  partitions: 12,
  inflight: 500,
  latencyMs: 20,
  jitterMs: 20,
  retryBaseDelayMs: 1000,
  retryMaxDelayMs: 10_000,
  killPauseMs: [500, 3000],
  crashRestartDelayMs: 1000,
  hangAfterFatalMs: 10_000,
  minFaultGapSeconds: 8,
  timeoutSeconds: 900,
  seed: Math.floor(Math.random() * 2 ** 31),
  logLevel: 'info',
  tsx: false,
  verbose: false,
  keepTopics: false,
  extraEnv: {},
};

export type FaultKind = 'kill' | 'broker-restart' | 'sandbox-outage' | 'broker-stall';

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds after t0 it was planned for / started / ended. */
  plannedAt: number;
  startedAt?: number;
  endedAt?: number;
  detail: string;
}

export interface StallRecord {
  seconds: number;
  /** Seconds after t0 the broker was frozen and resumed. */
  from?: number;
  to?: number;
  /** Partition transactions the worker had open 300 ms into the freeze (they cannot end while it lasts). */
  transactionsInFlight: number | null;
  /** From SIGCONT to the next committed outcome seen by a read_committed consumer. */
  recoverySec?: number;
  /** Worker processes that exited on their own from the freeze until 30 s after it. */
  workerExits: number;
}

export interface WorkerInstanceRecord {
  n: number;
  reason: string;
  startedAt: number;
  endedAt?: number;
  /** Exit code or signal. */
  exit?: string;
  killedByCampaign: boolean;
  /** It logged "worker cannot continue" and did not exit within hangAfterFatalMs: killed by the watchdog. */
  hungAfterFatal?: boolean;
  /** Highest resident set size seen while it ran (VmHWM, sampled every second). */
  peakRssMb?: number;
  /** Why it exited on its own: its fatal log line or start-up error, shortened. */
  exitReason?: string;
  log?: string;
}

export interface Sample {
  /** Seconds since t0. */
  t: number;
  produced: number;
  /** Keys with at least one terminal outcome seen by the live read_committed consumer. */
  terminal: number;
  outcomesPerSec: number;
  sandboxUp: boolean;
  /** Calls the sandbox counted in this second (null while it is down or did not answer). */
  vendorCallsPerSec: number | null;
  /** API calls the worker completed in this second (its histogram count; includes refused connections). */
  workerCallsPerSec: number | null;
  /** Refused / failed TCP connects in this network namespace in this second (/proc/net/snmp Tcp AttemptFails). */
  refusedConnectsPerSec: number | null;
  circuit: string | null;
  inFlight: number | null;
  retriesPending: number | null;
  worker: number | null;
}

export interface OutcomeRecord {
  topic: 'succeeded' | 'failed' | 'unknown';
  partition: number;
  offset: string;
  timestamp: number;
  attempt: number;
  completedAt: number;
  resultCode: string;
  final: boolean;
}

export interface DuplicateReport {
  key: string;
  records: Array<OutcomeRecord & { worker: number | null }>;
  requestRecords: number;
  cause: string;
  logLines: string[];
}

export interface CampaignResult {
  stamp: string;
  commit: string;
  options: CampaignOptions;
  topics: string;
  processes: 'js' | 'tsx';
  elapsedSec: number;
  finished: boolean;
  requests: number;
  /** Request records found in the requested topic, and keys found there more than once. */
  requestRecordsInLog: number;
  requestKeysDuplicated: number;
  terminalOutcomes: number;
  terminalKeys: number;
  byKind: { succeeded: number; failed: number; finalUnknown: number; nonFinalUnknown: number };
  lost: number;
  lostKeys: string[];
  duplicates: number;
  duplicateReports: DuplicateReport[];
  /** (key, attempt) pairs of non-terminal unknown outcomes published more than once. */
  replayedAttempts: number;
  dlq: number;
  workerRestarts: { total: number; afterKill: number; afterExit: number; afterHang: number; exitCodes: Record<string, number> };
  workers: WorkerInstanceRecord[];
  faults: FaultRecord[];
  broker: { restarted: boolean; stopSec?: number; startSec?: number; downSec?: number; healthyAtEnd: boolean };
  stalls: StallRecord[];
  outage: {
    plannedSec: number;
    actualSec?: number;
    from?: number;
    to?: number;
    /** Highest worker-side API calls in one second while the sandbox was down (first second included). */
    peakWorkerCallsPerSec?: number;
    peakWorkerCallsAt?: number;
    /** The same, from the second second of the outage on (after the calls in flight at the kill failed). */
    peakWorkerCallsPerSecAfterFirst?: number;
    totalWorkerCalls?: number;
    peakRefusedConnectsPerSec?: number;
    totalRefusedConnects?: number;
    /** Median sandbox-counted calls/s over the seconds before the outage with any calls, for scale. */
    callsPerSecBefore?: number;
  };
  /**
   * Each sandbox incarnation captures a key at most once (idempotent by captureRequestId), and every
   * succeeded outcome comes from a capture, so captures beyond one per succeeded key are keys captured
   * by both incarnations: the restarted sandbox had lost its idempotency store (a real vendor would
   * have answered with the first capture).
   */
  vendor: {
    /** Per sandbox incarnation: calls and distinct captures it counted (the first: just before its kill). */
    incarnations: Array<{ calls: number; captures: number }>;
    capturesTotal: number;
    succeededKeys: number;
    capturedAgainAfterRestart: number;
  };
  timeline: Sample[];
  logDir: string;
}

type Log = (line: string) => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a campaign's schedule can be replayed with --seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where each fault happens (seconds after t0). */
export function planFaults(o: CampaignOptions, random: () => number): FaultRecord[] {
  const production = o.rate > 0 ? o.events / o.rate : 10;
  const span = o.faultSpanSeconds ?? Math.max(production, 20 + o.outageSeconds);
  const between = (a: number, b: number): number => a + random() * Math.max(0, b - a);
  const faults: FaultRecord[] = [];
  const outageAt = between(0.15 * span, 0.4 * span);
  if (o.outageSeconds > 0) faults.push({ kind: 'sandbox-outage', plannedAt: outageAt, detail: `sandbox down ${o.outageSeconds}s` });
  const outageEnd = outageAt + o.outageSeconds;
  let brokerAt: number | undefined;
  if (o.brokerRestart) {
    brokerAt = outageEnd + 2 <= 0.9 * span ? between(outageEnd + 2, 0.9 * span) : outageEnd + 2;
    faults.push({ kind: 'broker-restart', plannedAt: brokerAt, detail: 'broker SIGTERM + start' });
  }
  const kills: number[] = [];
  let gap = o.minFaultGapSeconds;
  for (let tries = 0; kills.length < o.kills; tries++) {
    if (tries > 0 && tries % 2000 === 0) gap /= 2; // too crowded: relax the spacing rather than fail
    const at = between(2, span);
    const clash = kills.some((k) => Math.abs(k - at) < gap) || (brokerAt !== undefined && Math.abs(at - brokerAt) < gap);
    if (!clash) kills.push(at);
  }
  for (const at of kills) faults.push({ kind: 'kill', plannedAt: at, detail: 'kill -9 worker' });
  // Freezes overlap neither each other nor the broker restart (whose own stop would wait on them).
  const frozen: Array<[number, number]> = brokerAt !== undefined ? [[brokerAt - gap, brokerAt + 15]] : [];
  for (const seconds of o.stalls) {
    let at = between(2, span);
    for (let tries = 0; tries < 2000 && frozen.some(([a, b]) => at < b + 2 && at + seconds > a - 2); tries++) at = between(2, span + seconds * tries * 0.01);
    frozen.push([at, at + seconds]);
    faults.push({ kind: 'broker-stall', plannedAt: at, detail: `broker frozen ${seconds}s` });
  }
  return faults.sort((a, b) => a.plannedAt - b.plannedAt);
}

/** Runs the worker, one instance at a time; restarts it after a kill and whenever it exits on its own. */
class WorkerSupervisor {
  readonly instances: Array<WorkerInstanceRecord & { proc: Proc; healthPort?: number }> = [];
  afterKill = 0;
  afterExit = 0;
  /** Restarts because an instance logged its fatal error but did not exit (see hangAfterFatalMs). */
  afterHang = 0;
  private stopping = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly t0: () => number,
    private readonly log: Log,
    private readonly o: CampaignOptions,
  ) {}

  get current(): (typeof this.instances)[number] | undefined {
    return this.instances[this.instances.length - 1];
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  start(reason: string): (typeof this.instances)[number] {
    const n = this.instances.length + 1;
    const proc = new Proc(`worker#${n}`, process.execPath, this.args, this.env, this.o.verbose);
    const inst = { n, reason, startedAt: Date.now(), killedByCampaign: false, proc } as (typeof this.instances)[number];
    this.instances.push(inst);
    void proc.waitFor(/"healthPort":(\d+)/, 120_000).then(
      (m) => (inst.healthPort = Number(m[1])),
      () => undefined,
    );
    // The worker is meant to exit after its fatal log line; one that stays up is stuck (it consumes
    // nothing, and /healthz still answers 200, so a liveness probe would not restart it either).
    // The campaign kills and restarts it, and reports it.
    void proc.waitFor(/worker cannot continue/, 24 * 3600_000).then(
      async () => {
        await sleep(this.o.hangAfterFatalMs);
        await this.serialize(async () => {
          if (this.stopping || this.current !== inst || !proc.alive) return;
          inst.hungAfterFatal = true;
          inst.killedByCampaign = true;
          this.log(`  ${this.ts()} worker#${n} logged a fatal error ${this.o.hangAfterFatalMs / 1000}s ago but is still running: SIGKILL and restart (watchdog)`);
          const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
          proc.child.kill('SIGKILL');
          await exited;
          this.afterHang++;
          this.start(`restart after worker#${n} hung after its fatal error (watchdog)`);
        });
      },
      () => undefined,
    );
    proc.child.once('exit', (code, signal) => {
      inst.endedAt = Date.now();
      inst.exit = code !== null ? String(code) : String(signal);
      if (inst.killedByCampaign || this.stopping) return;
      this.log(`  ${this.ts()} worker#${n} exited on its own (${inst.exit}); restarting in ${this.o.crashRestartDelayMs} ms — last lines:\n${indent(proc.tail(4))}`);
      setTimeout(() => {
        void this.serialize(async () => {
          if (this.stopping || this.current !== inst) return;
          this.afterExit++;
          this.start(`restart after worker#${n} exited (${inst.exit})`);
        });
      }, this.o.crashRestartDelayMs);
    });
    return inst;
  }

  /** SIGKILL the running instance (waiting for one to be running), pause, start the next. */
  kill9(pauseMs: number): Promise<string> {
    return this.serialize(async () => {
      const deadline = Date.now() + 60_000;
      while (!this.stopping && !(this.current?.proc.alive ?? false) && Date.now() < deadline) await sleep(200);
      const inst = this.current;
      if (this.stopping || !inst || !inst.proc.alive) return 'skipped: no worker running';
      const assigned = inst.proc.count(/partitions assigned/g) > 0;
      inst.killedByCampaign = true;
      const exited = new Promise<void>((resolve) => (inst.proc.alive ? inst.proc.child.once('exit', () => resolve()) : resolve()));
      inst.proc.child.kill('SIGKILL');
      await exited;
      await sleep(pauseMs);
      if (this.stopping) return `killed worker#${inst.n}`;
      this.afterKill++;
      const next = this.start(`restart after kill -9 of worker#${inst.n}`);
      return `killed worker#${inst.n} (${assigned ? 'after it had joined' : 'before it had joined its group'}), worker#${next.n} started after ${pauseMs} ms`;
    });
  }

  async stop(): Promise<number | null> {
    this.stopping = true;
    await this.chain;
    const inst = this.current;
    if (!inst || !inst.proc.alive) return null;
    return inst.proc.stop(20_000);
  }

  private ts(): string {
    return `t=${((Date.now() - this.t0()) / 1000).toFixed(1)}s`;
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, '      ');
}

/** The sandbox CLI as a process on a fixed port (0 on the first start), with fixed keys. */
async function startSandboxProc(entry: Entrypoints, keys: KeyFiles, o: CampaignOptions, port: number, label: string): Promise<{ proc: Proc; url: string; port: number }> {
  const args = [
    ...entry.sandbox,
    ...['--port', String(port), '--latency-ms', String(o.latencyMs), '--jitter-ms', String(o.jitterMs)],
    ...['--merchant-public-key', keys.merchantPublic, '--private-key', keys.sandboxPrivate, '--public-key', keys.sandboxPublic],
  ];
  const proc = new Proc(label, process.execPath, args, process.env, o.verbose);
  const [, url] = await proc.waitFor(/listening on (\S+)/, 30_000);
  return { proc, url: url!, port: Number(new URL(url!).port) };
}

async function getJson<T>(url: string, timeoutMs = 900): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

async function workerMetrics(port: number): Promise<{ calls: number; circuit: string; inFlight: number; retriesPending: number; transactions: number; commits: number } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(900) });
    if (!res.ok) return null;
    const text = await res.text();
    let calls = 0;
    let circuit = 'unknown';
    let inFlight = 0;
    let retriesPending = 0;
    let transactions = 0;
    let commits = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (!m) continue;
      const v = Number(m[2]);
      if (m[1] === 'capture_api_latency_seconds_count') calls += v;
      else if (m[1] === 'capture_circuit_state' && v === 1) circuit = /state="([a-z-]+)"/.exec(line)?.[1] ?? 'unknown';
      else if (m[1] === 'capture_in_flight') inFlight = v;
      else if (m[1] === 'capture_retries_pending') retriesPending = v;
      else if (m[1] === 'capture_transactions_in_progress') transactions = v;
      else if (m[1] === 'capture_transaction_commit_seconds_count') commits = v;
    }
    return { calls, circuit, inFlight, retriesPending, transactions, commits };
  } catch {
    return null;
  }
}

/** Seconds until the worker commits a transaction after `base` (its count during the freeze; another instance counts from 0); undefined after `capMs`. */
async function untilNextCommit(supervisor: WorkerSupervisor, base: { n: number; commits: number } | undefined, capMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < capMs) {
    const inst = supervisor.current;
    const m = inst?.healthPort && inst.proc.alive ? await workerMetrics(inst.healthPort) : null;
    if (inst && m && m.commits > (base && base.n === inst.n ? base.commits : 0)) return (Date.now() - start) / 1000;
    await sleep(100);
  }
  return undefined;
}

/** Tcp AttemptFails from /proc/net/snmp (connects refused or reset before they were established). */
function tcpAttemptFails(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Tcp:'));
    const names = lines[0]!.trim().split(/\s+/);
    const values = lines[1]!.trim().split(/\s+/);
    const i = names.indexOf('AttemptFails');
    return i < 0 ? null : Number(values[i]);
  } catch {
    return null;
  }
}

/** A live read_committed consumer of the outcome topics: which keys have a terminal outcome. */
class LiveOutcomes {
  readonly terminalKeys = new Set<string>();
  records = 0;
  private consumer: Consumer | undefined;
  private readonly seen = new Set<string>();
  private stopped = false;
  private handling = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly topics: BenchTopics,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    // A short session: after the broker restart the group is reloaded and a stale member must expire quickly.
    const consumer = this.kafka.consumer({ groupId: `campaign-live-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 200, sessionTimeout: 6000, heartbeatInterval: 500 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topics.succeeded, this.topics.failed, this.topics.unknown], fromBeginning: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      // A non-retriable crash (e.g. around the broker restart): read again from the beginning.
      this.log(`  live outcome consumer crashed (${payload.error.message}); starting a new one`);
      void consumer.disconnect().catch(() => undefined);
      void sleep(1000).then(() => (this.stopped ? undefined : this.start().catch((e: Error) => this.log(`  live consumer restart failed: ${e.message}`))));
    });
    await consumer.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        if (this.stopped) return;
        this.handling++;
        try {
          await this.take(batch);
        } finally {
          this.handling--;
        }
      },
    });
  }

  private async take(batch: { topic: string; partition: number; messages: Array<{ offset: string; key: Buffer | null; value: Buffer | null }> }): Promise<void> {
    for (const m of batch.messages) {
      const id = `${batch.topic}|${batch.partition}|${m.offset}`;
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      this.records++;
      const key = m.key?.toString() ?? '';
      if (batch.topic !== this.topics.unknown) this.terminalKeys.add(key);
      else if ((await this.codec.decode('CaptureUnknown', m.value)).final) this.terminalKeys.add(key);
    }
  }

  /**
   * Around the broker restart the consumer is closed and a new one started: a KafkaJS consumer that
   * lives through a broker restart keeps heartbeating through a coordinator Broker object its
   * client no longer tracks, so disconnect() leaves that socket open (and the process alive).
   */
  async suspend(): Promise<void> {
    await this.stop();
  }

  async resume(): Promise<void> {
    this.stopped = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.start();
      } catch (error) {
        await this.consumer?.disconnect().catch(() => undefined);
        if (attempt >= 30) throw error;
        await sleep(2000);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.consumer) await quietDisconnect(this.consumer, [this.topics.succeeded, this.topics.failed, this.topics.unknown], () => this.handling);
  }
}

interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  value: Buffer | null;
}

/** Every committed record of `topics` (read_committed, fresh group), read until nothing new comes for `quietMs`. */
async function readAll(kafka: Kafka, topics: string[], quietMs = 5000, capMs = 180_000): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const seen = new Set<string>();
  let last: number;
  let done = false;
  const consumer = kafka.consumer({
    groupId: `campaign-final-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
    maxBytes: 50 * 1024 * 1024,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      partitionsConsumedConcurrently: 8,
      eachBatch: async ({ batch }) => {
        if (done) return;
        for (const m of batch.messages) {
          const id = `${batch.topic}|${batch.partition}|${m.offset}`;
          if (seen.has(id)) continue;
          seen.add(id);
          records.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key?.toString() ?? null, value: m.value });
        }
        last = Date.now();
      },
    });
    await joined;
    last = Date.now();
    const cap = Date.now() + capMs;
    while (Date.now() - last < quietMs && Date.now() < cap) await sleep(200);
    return records;
  } finally {
    done = true;
    await quietDisconnect(consumer, topics, () => 0);
  }
}

/**
 * Pauses fetching and lets batches in progress finish before disconnecting: a KafkaJS consumer
 * disconnected while a batch is being handled heartbeats after it and opens a new connection to the
 * group coordinator that nothing closes (it kept the test process alive).
 */
async function quietDisconnect(consumer: Consumer, topics: string[], handling: () => number): Promise<void> {
  try {
    consumer.pause(topics.map((topic) => ({ topic })));
  } catch {
    // not running (crashed): nothing to pause
  }
  const deadline = Date.now() + 5000;
  while (handling() > 0 && Date.now() < deadline) await sleep(50);
  await sleep(500);
  await consumer.disconnect().catch(() => undefined);
}

/** True when the broker in use is the native stack's own (the one this campaign can restart). */
export function nativeBrokerInUse(brokers: string): boolean {
  const kafka = managed('kafka', stackPaths().pids, stackPaths().logs);
  const pid = runningPid(kafka);
  if (
    pid === undefined ||
    !brokers
      .split(',')
      .map((b) => b.trim())
      .includes(brokersFor(stackPorts()))
  )
    return false;
  // The pid file must name the process that actually listens on the port (not, say, a broker of
  // another checkout's stack that took the port while this one was down).
  const listener = listenerPid(stackPorts().kafka);
  return listener === undefined || listener === pid;
}

/** The pid of the process listening on a loopback TCP port (from /proc; undefined when unknown). */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket inode.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      } catch {
        // gone
      }
    }
  }
  return undefined;
}

/** The native stack's broker: the pid its pid file names, checked to be the one serving the port. */
function nativeBroker(): { pid: number; kafka: ReturnType<typeof managed>; paths: ReturnType<typeof stackPaths>; ports: ReturnType<typeof stackPorts> } {
  const paths = stackPaths();
  const ports = stackPorts();
  const kafka = managed('kafka', paths.pids, paths.logs);
  const pid = runningPid(kafka);
  if (pid === undefined) throw new Error('the native Kafka broker is not running');
  const listener = listenerPid(ports.kafka);
  if (listener !== undefined && listener !== pid) throw new Error(`port ${ports.kafka} is served by pid ${listener}, not by this stack's broker (pid ${pid}): not touching it`);
  return { pid, kafka, paths, ports };
}

/** Freezes the native broker for `seconds` (what a long GC pause, a stuck disk or a paused VM does); `during` runs 300 ms in. */
export async function freezeBroker<T>(seconds: number, log: Log, ts: () => string, during: () => Promise<T>): Promise<T> {
  const { pid } = nativeBroker();
  log(`  ${ts()} broker: SIGSTOP to pid ${pid} for ${seconds}s`);
  // Whatever ends this process, the broker must not be left frozen for everyone else.
  const thaw = () => process.kill(pid, 'SIGCONT');
  process.once('exit', thaw);
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(300);
    const seen = await during();
    await sleep(Math.max(0, seconds * 1000 - 300));
    return seen;
  } finally {
    process.off('exit', thaw);
    thaw();
    log(`  ${ts()} broker: SIGCONT to pid ${pid}`);
  }
}

/** Restarts the native stack's broker: SIGTERM (controlled shutdown), then the same config and data. */
async function restartBroker(log: Log, ts: () => string): Promise<{ stopSec: number; startSec: number }> {
  const { pid, kafka, paths, ports } = nativeBroker();
  const t1 = Date.now();
  log(`  ${ts()} broker: SIGTERM to pid ${pid}`);
  process.kill(pid, 'SIGTERM');
  // While it is down the pid file names this (live) process, so a concurrent `stack up` (another
  // test run's global set-up) sees Kafka as running instead of starting a second broker on the same
  // data directory; startKafka writes the new broker's pid over it.
  writeFileSync(kafka.pidFile, String(process.pid));
  while (alive(pid) && Date.now() - t1 < 90_000) await sleep(100);
  if (alive(pid)) {
    log(`  ${ts()} broker: still running after 90 s; SIGKILL`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  const t2 = Date.now();
  log(`  ${ts()} broker: stopped after ${((t2 - t1) / 1000).toFixed(1)}s; starting it again (same config and data)`);
  await startKafka(paths, ports, kafka);
  const t3 = Date.now();
  log(`  ${ts()} broker: pid ${runningPid(kafka)} answering after ${((t3 - t2) / 1000).toFixed(1)}s`);
  return { stopSec: (t2 - t1) / 1000, startSec: (t3 - t2) / 1000 };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Makes sure the native broker runs and answers (after a failure in the middle of its restart too). */
async function ensureBrokerUp(log: Log): Promise<boolean> {
  const paths = stackPaths();
  const ports = stackPorts();
  const kafka = managed('kafka', paths.pids, paths.logs);
  if (runningPid(kafka) === process.pid) rmSync(kafka.pidFile, { force: true }); // our placeholder from a restart that failed half-way
  if (runningPid(kafka) === undefined) {
    log('broker is not running: starting it again');
    await startKafka(paths, ports, kafka);
  }
  for (let i = 0; i < 60; i++) {
    if (await kafkaAnswers(ports.kafka).catch(() => false)) return true;
    await sleep(1000);
  }
  return false;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runCampaign(options: Partial<CampaignOptions>, log: Log): Promise<CampaignResult> {
  const o: CampaignOptions = { ...DEFAULT_OPTIONS, ...options };
  // Separate streams, so the fault plan depends on the seed alone.
  const random = rng(o.seed);
  const eventRandom = rng(o.seed + 1);
  const pauseRandom = rng(o.seed + 2);
  const stamp = new Date().toISOString().replace(/\..*/, '');
  const stack: Stack = await ensureStack();
  if ((o.brokerRestart || o.stalls.length > 0) && !nativeBrokerInUse(stack.brokers)) {
    throw new Error(
      `the broker restart needs the native stack's broker (${brokersFor(stackPorts())}, pid file in .stack/pids) to be the one in use (${stack.brokers}); pass --no-broker-restart --stalls ''`,
    );
  }
  const entry = build(o.tsx);
  const topics = freshTopics('faults');
  const runId = topics.id;
  const keyDir = mkdtempSync(join(tmpdir(), 'fault-campaign-'));
  const logDir = o.logDir ?? join(keyDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const kafka = benchKafka(stack.brokers);
  const codec = EventCodec.forUrl(stack.registryUrl);
  const faults = planFaults(o, random);
  const brokerAtStart = o.brokerRestart || o.stalls.length > 0 || nativeBrokerInUse(stack.brokers);
  let t0 = Date.now();
  const ts = (): string => `t=${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const sinceT0 = (): number => (Date.now() - t0) / 1000;

  log(
    `fault campaign ${runId} · ${o.events} requests (${(o.unknownShare * 100).toFixed(0)}% scripted unknowns) at ${o.rate || 'all at once'}/s · ${o.partitions} partitions · MAX_IN_FLIGHT=${o.inflight} · sandbox latency ${o.latencyMs}±${o.jitterMs} ms · seed ${o.seed}`,
  );
  log(`kafka ${stack.brokers} · registry ${stack.registryUrl} · ${gitDescribe()} · processes as ${entry.mode === 'js' ? 'compiled JS (bench/.build)' : 'tsx'} · logs in ${logDir}`);
  log(`plan: ${faults.map((f) => `${f.kind}@${f.plannedAt.toFixed(1)}s`).join(', ')}`);

  let sandbox: { proc: Proc; url: string; port: number } | undefined;
  const sandboxProcs: Proc[] = [];
  let supervisor: WorkerSupervisor | undefined;
  let producer: RequestProducer | undefined;
  let live: LiveOutcomes | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let brokerRestarting = false;
  const keys: string[] = [];
  const timeline: Sample[] = [];
  const vendorIncarnations: Array<{ calls: number; captures: number }> = [];
  const broker: CampaignResult['broker'] = { restarted: false, healthyAtEnd: false };
  const stalls: StallRecord[] = [];
  const outage: CampaignResult['outage'] = { plannedSec: o.outageSeconds };
  let finished = false;
  let failure: unknown;
  let result: CampaignResult | undefined;
  const runStart = Date.now();
  try {
    await withAdmin(kafka, (admin) => createTopics(admin, topics, o.partitions));
    const keyFiles = await makeKeys(keyDir);
    sandbox = await startSandboxProc(entry, keyFiles, o, 0, 'sandbox#1');
    sandboxProcs.push(sandbox.proc);
    const sandboxPort = sandbox.port;
    producer = await RequestProducer.create(kafka, codec, topics.requested, runId);
    await codec.useSubject('CaptureUnknown', topics.unknown);
    live = new LiveOutcomes(kafka, codec, topics, log);
    await live.start();

    const env = workerEnv(stack, keyFiles, sandbox.url, topics, {
      TRANSACTIONAL_ID: `${runId}-tx`,
      MAX_IN_FLIGHT: String(o.inflight),
      LOG_LEVEL: o.logLevel,
      RETRY_BASE_DELAY_MS: String(o.retryBaseDelayMs),
      RETRY_MAX_DELAY_MS: String(o.retryMaxDelayMs),
      SHUTDOWN_GRACE_MS: '10000',
      ...o.extraEnv,
    });
    supervisor = new WorkerSupervisor([...entry.worker, 'run'], env, () => t0, log, o);
    const first = supervisor.start('first start');
    await first.proc.waitFor(/partitions assigned/, 90_000);
    t0 = Date.now();
    log(`worker#1 joined its group; t0`);

    // Requests, paced; paused while the broker restarts.
    let produced = 0;
    let producerGate: Promise<void> = Promise.resolve();
    const producing = (async () => {
      const start = Date.now();
      while (produced < o.events) {
        await producerGate;
        const due = o.rate > 0 ? Math.min(o.events, Math.floor(((Date.now() - start) / 1000) * o.rate)) : o.events;
        if (due > produced) {
          const messages: Message[] = [];
          const now = Date.now();
          for (let i = produced; i < due; i++) {
            const key = `fc-${runId}-${i}`;
            const unknown = eventRandom() < o.unknownShare;
            const paymentId = unknown ? `unknown-${1 + Math.floor(eventRandom() * 3)}-p-${runId}-${i}` : `p-${runId}-${i}`;
            const value: CaptureRequested = { paymentId, captureAmount: { currency: 'USD', value: '100' }, requestedAt: now, metadata: { campaign: runId } };
            messages.push({ key, value: codec.encode('CaptureRequested', value) });
            keys.push(key);
          }
          for (let attempt = 1; ; attempt++) {
            try {
              await producer!.sendRaw(messages);
              break;
            } catch (error) {
              // A resend after an ambiguous failure could put a request in the log twice: the final read checks the input.
              if (attempt >= 60) throw error;
              log(`  ${ts()} producing failed (${(error as Error).message}); retrying`);
              await sleep(1000);
            }
          }
          produced = due;
        }
        await sleep(100);
      }
    })();
    producing.catch(() => undefined);

    // One sample a second: the call-rate timeline.
    let prevVendor: { incarnation: number; calls: number } | undefined;
    let prevWorker: { n: number; calls: number } | undefined;
    let prevFails = tcpAttemptFails();
    let prevOutcomes = 0;
    let sampling = false;
    let sandboxUp = true;
    let incarnation = 1;
    sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void (async () => {
        const t = sinceT0();
        const inst = supervisor!.current;
        if (inst?.proc.alive) inst.peakRssMb = Math.max(inst.peakRssMb ?? 0, inst.proc.peakRssMb() || 0);
        const [vendor, metrics] = await Promise.all([
          sandboxUp && sandbox ? getJson<{ calls: number; captures: number }>(`${sandbox.url}/sandbox/stats`) : Promise.resolve(null),
          inst?.healthPort && inst.proc.alive ? workerMetrics(inst.healthPort) : Promise.resolve(null),
        ]);
        const fails = tcpAttemptFails();
        let vendorRate: number | null = null;
        if (vendor) {
          vendorIncarnations[incarnation - 1] = { calls: vendor.calls, captures: vendor.captures };
          vendorRate = prevVendor && prevVendor.incarnation === incarnation ? vendor.calls - prevVendor.calls : vendor.calls;
          prevVendor = { incarnation, calls: vendor.calls };
        }
        let workerRate: number | null = null;
        if (metrics && inst) {
          workerRate = prevWorker && prevWorker.n === inst.n ? metrics.calls - prevWorker.calls : metrics.calls;
          prevWorker = { n: inst.n, calls: metrics.calls };
        }
        const outcomes = live!.records;
        timeline.push({
          t: Number(t.toFixed(1)),
          produced,
          terminal: live!.terminalKeys.size,
          outcomesPerSec: outcomes - prevOutcomes,
          sandboxUp,
          vendorCallsPerSec: vendorRate,
          workerCallsPerSec: workerRate,
          refusedConnectsPerSec: fails !== null && prevFails !== null ? fails - prevFails : null,
          circuit: metrics ? metrics.circuit : null,
          inFlight: metrics?.inFlight ?? null,
          retriesPending: metrics?.retriesPending ?? null,
          worker: inst?.proc.alive ? inst.n : null,
        });
        prevOutcomes = outcomes;
        prevFails = fails;
      })().finally(() => (sampling = false));
    }, 1000);

    // Progress, a line every 2 s.
    let lastProgress = 0;
    const progress = (): void => {
      if (Date.now() - lastProgress < 2000) return;
      lastProgress = Date.now();
      const s = timeline[timeline.length - 1];
      const recent = timeline.slice(-2);
      const sum = (f: (x: Sample) => number | null): string => {
        const v = recent.map(f).filter((x): x is number => x !== null);
        return v.length ? String(v.reduce((a, b) => a + b, 0) / v.length) : '–';
      };
      const inst = supervisor!.current;
      log(
        `${ts().padEnd(9)} produced ${String(produced).padStart(6)}/${o.events}  terminal ${String(live!.terminalKeys.size).padStart(6)}  ` +
          `outcomes/s ${sum((x) => x.outcomesPerSec).padStart(5)}  worker#${inst?.n ?? '-'} ${inst?.proc.alive ? 'up' : 'down'} circuit ${s?.circuit ?? '–'}  ` +
          `calls/s worker ${sum((x) => x.workerCallsPerSec).padStart(4)} sandbox ${sandboxUp ? sum((x) => x.vendorCallsPerSec).padStart(4) : 'DOWN'}  refused/s ${sum((x) => x.refusedConnectsPerSec)}` +
          `${brokerRestarting ? '  BROKER RESTARTING' : ''}`,
      );
    };

    // The faults, each at its planned time; the outage and the broker restart run beside the kills.
    const running: Array<Promise<void>> = [];
    const faultTask = (f: FaultRecord): Promise<void> => {
      f.startedAt = sinceT0();
      if (f.kind === 'kill') {
        const pause = Math.round(o.killPauseMs[0] + pauseRandom() * (o.killPauseMs[1] - o.killPauseMs[0]));
        log(`  ${ts()} FAULT kill -9 worker#${supervisor!.current?.n}`);
        return supervisor!.kill9(pause).then((detail) => {
          f.detail = detail;
          f.endedAt = sinceT0();
          log(`  ${ts()} ${detail}`);
        });
      }
      if (f.kind === 'sandbox-outage') {
        return (async () => {
          const s1 = sandbox!;
          // Its counters just before the kill (captures in the few ms between this answer and the kill are not counted).
          const before = await getJson<{ calls: number; captures: number }>(`${s1.url}/sandbox/stats`, 2000);
          log(`  ${ts()} FAULT sandbox outage: SIGKILL to sandbox#1`);
          sandboxUp = false;
          const exited = new Promise<void>((resolve) => s1.proc.child.once('exit', () => resolve()));
          s1.proc.child.kill('SIGKILL');
          await exited;
          const down = Date.now();
          f.startedAt = sinceT0();
          outage.from = f.startedAt;
          if (before && before.captures >= (vendorIncarnations[0]?.captures ?? 0)) vendorIncarnations[0] = before;
          await sleep(o.outageSeconds * 1000);
          sandbox = await startSandboxProc(entry, keyFiles, o, sandboxPort, 'sandbox#2');
          sandboxProcs.push(sandbox.proc);
          incarnation = 2;
          sandboxUp = true;
          f.endedAt = sinceT0();
          outage.to = f.endedAt;
          outage.actualSec = (Date.now() - down) / 1000;
          f.detail = `sandbox down ${outage.actualSec.toFixed(1)}s (SIGKILL, restarted on port ${sandboxPort} with the same keys; its idempotency store starts empty)`;
          log(`  ${ts()} sandbox#2 listening on ${sandbox.url} after ${outage.actualSec.toFixed(1)}s down`);
        })();
      }
      if (f.kind === 'broker-stall') {
        const stall: StallRecord = { seconds: Number(/frozen (\d+)s/.exec(f.detail)![1]), transactionsInFlight: null, workerExits: 0 };
        stalls.push(stall);
        return (async () => {
          brokerRestarting = true;
          let release!: () => void;
          producerGate = new Promise((resolve) => (release = resolve));
          try {
            log(`  ${ts()} FAULT broker stall ${stall.seconds}s`);
            await live!.suspend();
            stall.from = sinceT0();
            const frozen = await freezeBroker(stall.seconds, log, ts, async () => {
              const inst = supervisor!.current;
              const m = inst?.healthPort ? await workerMetrics(inst.healthPort) : null;
              return m && inst ? { n: inst.n, commits: m.commits, transactions: m.transactions } : undefined;
            });
            stall.transactionsInFlight = frozen?.transactions ?? null;
            stall.to = sinceT0();
            release();
            stall.recoverySec = await untilNextCommit(supervisor!, frozen, 180_000);
            f.detail = `broker frozen ${stall.seconds}s with ${stall.transactionsInFlight ?? '?'} partition transactions open; first commit ${stall.recoverySec?.toFixed(1) ?? 'NOT within 180'}s after SIGCONT`;
            await live!.resume();
          } finally {
            f.endedAt = sinceT0();
            brokerRestarting = false;
            release();
          }
        })();
      }
      return (async () => {
        brokerRestarting = true;
        let release!: () => void;
        producerGate = new Promise((resolve) => (release = resolve));
        try {
          log(`  ${ts()} FAULT broker restart`);
          await live!.suspend();
          const r = await restartBroker(log, ts);
          await live!.resume();
          broker.restarted = true;
          broker.stopSec = r.stopSec;
          broker.startSec = r.startSec;
          broker.downSec = r.stopSec + r.startSec;
          f.detail = `broker SIGTERM: stopped in ${r.stopSec.toFixed(1)}s, answering ${r.startSec.toFixed(1)}s after start`;
        } finally {
          f.endedAt = sinceT0();
          brokerRestarting = false;
          release();
        }
      })();
    };

    const deadline = Date.now() + o.timeoutSeconds * 1000;
    let nextFault = 0;
    for (;;) {
      const now = sinceT0();
      while (nextFault < faults.length && faults[nextFault]!.plannedAt <= now) {
        const task = faultTask(faults[nextFault++]!);
        task.catch((e: Error) => log(`  ${ts()} fault failed: ${e.stack ?? e.message}`));
        running.push(task);
      }
      progress();
      const allFaultsDone = nextFault >= faults.length && faults.every((f) => f.endedAt !== undefined);
      if (allFaultsDone && produced >= o.events && live.terminalKeys.size >= o.events) {
        finished = true;
        break;
      }
      if (Date.now() > deadline) {
        log(`timeout after ${o.timeoutSeconds}s: ${o.events - live.terminalKeys.size} requests without a terminal outcome`);
        break;
      }
      await sleep(100);
    }
    await Promise.allSettled(running);
    await producing.catch((e: Error) => log(`producer failed: ${e.message}`));
    const elapsedSec = sinceT0();
    log(`${ts()} ${finished ? 'every request has a terminal outcome' : 'stopping (not finished)'}; stopping the worker (SIGTERM)`);
    const exit = await supervisor.stop();
    log(`  last worker exited with ${exit}`);
    clearInterval(sampler);
    sampler = undefined;
    await live.stop();

    // The authoritative count: every committed record, read again from the beginning.
    log('reading every outcome, DLQ and request record (read_committed, fresh consumer)…');
    const all = await readAll(kafka, [topics.succeeded, topics.failed, topics.unknown, topics.dlq, topics.requested]);
    const lastStats = sandbox && sandboxUp ? await getJson<{ calls: number; captures: number }>(`${sandbox.url}/sandbox/stats`, 5000) : null;
    if (lastStats) vendorIncarnations[incarnation - 1] = lastStats;

    result = await analyse({
      o,
      stamp,
      runId,
      entry,
      elapsedSec,
      finished,
      keys,
      all,
      topics,
      codec,
      supervisor,
      faults,
      timeline,
      broker,
      stalls,
      outage,
      vendorIncarnations,
      logDir,
      t0,
    });
    return result;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    if (sampler) clearInterval(sampler);
    await supervisor?.stop().catch(() => undefined);
    await live?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    for (const p of sandboxProcs) await p.stop(3000).catch(() => undefined);
    // Logs of every process, for explaining what happened.
    for (const inst of supervisor?.instances ?? []) {
      const file = join(logDir, `worker-${inst.n}.log`);
      writeFileSync(file, inst.proc.tail(Number.MAX_SAFE_INTEGER) + '\n');
      inst.log = file;
    }
    sandboxProcs.forEach((p, i) => writeFileSync(join(logDir, `sandbox-${i + 1}.log`), p.tail(Number.MAX_SAFE_INTEGER) + '\n'));
    if (brokerAtStart) {
      broker.healthyAtEnd = await ensureBrokerUp(log).catch((e: Error) => {
        log(`broker could not be brought back: ${e.message}`);
        return false;
      });
      log(`broker ${broker.healthyAtEnd ? 'running and answering' : 'NOT healthy'} (${brokersFor(stackPorts())})`);
    } else {
      broker.healthyAtEnd = await withAdmin(kafka, async (admin) => (await admin.describeCluster()).brokers.length > 0).catch(() => false);
    }
    if (result) result.broker.healthyAtEnd = broker.healthyAtEnd;
    if (!o.keepTopics) {
      await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: topicList(topics), timeout: 30_000 })).catch((e: Error) => log(`warning: could not delete campaign topics: ${e.message}`));
    }
    // A worker that exited on its own is as worth a look as a lost or duplicated outcome.
    const clean = !failure && result && result.lost === 0 && result.duplicates === 0 && result.workerRestarts.afterExit === 0 && result.workerRestarts.afterHang === 0;
    if (!o.logDir && clean) rmSync(keyDir, { recursive: true, force: true });
    else rmSync(join(keyDir, 'merchant.pem'), { force: true });
    if (!clean) log(`logs kept in ${logDir}`);
    log(`campaign took ${((Date.now() - runStart) / 1000).toFixed(0)}s in all`);
  }
}

interface AnalysisInput {
  o: CampaignOptions;
  stamp: string;
  runId: string;
  entry: Entrypoints;
  elapsedSec: number;
  finished: boolean;
  keys: string[];
  all: RawRecord[];
  topics: BenchTopics;
  codec: EventCodec;
  supervisor: WorkerSupervisor;
  faults: FaultRecord[];
  timeline: Sample[];
  broker: CampaignResult['broker'];
  stalls: StallRecord[];
  outage: CampaignResult['outage'];
  vendorIncarnations: Array<{ calls: number; captures: number }>;
  logDir: string;
  t0: number;
}

async function analyse(a: AnalysisInput): Promise<CampaignResult> {
  const { topics, codec } = a;
  const kindOf = (topic: string): OutcomeRecord['topic'] | 'dlq' | 'requested' =>
    topic === topics.succeeded ? 'succeeded' : topic === topics.failed ? 'failed' : topic === topics.unknown ? 'unknown' : topic === topics.dlq ? 'dlq' : 'requested';
  const byKey = new Map<string, OutcomeRecord[]>();
  const requestCount = new Map<string, number>();
  let dlq = 0;
  const byKind = { succeeded: 0, failed: 0, finalUnknown: 0, nonFinalUnknown: 0 };
  const attemptCount = new Map<string, number>();
  for (const r of a.all) {
    const kind = kindOf(r.topic);
    if (kind === 'dlq') {
      dlq++;
      continue;
    }
    const key = r.key ?? '';
    if (kind === 'requested') {
      requestCount.set(key, (requestCount.get(key) ?? 0) + 1);
      continue;
    }
    const name = kind === 'succeeded' ? 'CaptureSucceeded' : kind === 'failed' ? 'CaptureFailed' : 'CaptureUnknown';
    const event = (await codec.decode(name, r.value)) as { attempt: number; completedAt: number; result: { resultCode: string }; final?: boolean };
    const final = kind === 'unknown' ? event.final === true : true;
    const rec: OutcomeRecord = {
      topic: kind,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      attempt: event.attempt,
      completedAt: Number(event.completedAt),
      resultCode: event.result.resultCode,
      final,
    };
    if (kind === 'succeeded') byKind.succeeded++;
    else if (kind === 'failed') byKind.failed++;
    else if (final) byKind.finalUnknown++;
    else {
      byKind.nonFinalUnknown++;
      const id = `${key}#${event.attempt}`;
      attemptCount.set(id, (attemptCount.get(id) ?? 0) + 1);
    }
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(rec);
  }
  const workers = a.supervisor.instances;
  const workerAt = (ms: number): number | null => {
    for (const w of workers) if (ms >= w.startedAt && ms <= (w.endedAt ?? Infinity)) return w.n;
    return null;
  };
  const faultsNear = (ms: number): string[] =>
    a.faults
      .filter((f) => f.startedAt !== undefined && Math.abs(a.t0 + f.startedAt * 1000 - ms) < 20_000)
      .map((f) => `${f.kind} at t=${f.startedAt!.toFixed(1)}s (${(((a.t0 + f.startedAt! * 1000 - ms) / 1000) * -1).toFixed(1)}s before this record)`);
  const logs = workers.map((w) => ({ n: w.n, lines: w.proc.tail(Number.MAX_SAFE_INTEGER).split('\n') }));
  for (const w of workers) {
    if (w.killedByCampaign || w.exit === '0' || w.exit === undefined) continue;
    const lines = logs.find((l) => l.n === w.n)!.lines;
    const fatal = [...lines].reverse().find((l) => l.includes('"level":"fatal"') || l.startsWith('capture-worker:') || l.includes('invalid configuration'));
    w.exitReason = fatal?.replace(/"(time|pid|hostname|service)":[^,]*,/g, '').slice(0, 400);
  }

  let terminalOutcomes = 0;
  let terminalKeys = 0;
  const lostKeys: string[] = [];
  const duplicateReports: DuplicateReport[] = [];
  let duplicates = 0;
  for (const key of a.keys) {
    const records = byKey.get(key) ?? [];
    const terminal = records.filter((r) => r.final);
    terminalOutcomes += terminal.length;
    if (terminal.length > 0) terminalKeys++;
    else lostKeys.push(key);
    if (terminal.length > 1) {
      duplicates += terminal.length - 1;
      const annotated = terminal.map((r) => ({ ...r, worker: workerAt(r.timestamp) }));
      const requests = requestCount.get(key) ?? 0;
      const sameAttempt = new Set(terminal.map((r) => r.attempt)).size < terminal.length;
      const sameWorker = new Set(annotated.map((r) => r.worker)).size < annotated.length;
      const near = annotated.flatMap((r) => faultsNear(r.timestamp));
      const cause =
        requests > 1
          ? `the request is ${requests} times in the requested topic (the campaign's producer resent it after an ambiguous failure), and each record got its outcome`
          : `${sameAttempt ? 'the same attempt' : 'different attempts'} published ${sameWorker ? 'by the same worker instance' : 'by different worker instances'}; faults within 20 s: ${[...new Set(near)].join('; ') || 'none'}`;
      duplicateReports.push({
        key,
        records: annotated,
        requestRecords: requests,
        cause,
        logLines: logs.flatMap((l) => l.lines.filter((line) => line.includes(key)).map((line) => `worker#${l.n}: ${line}`)).slice(0, 20),
      });
    }
  }
  const requestKeysDuplicated = [...requestCount.values()].filter((c) => c > 1).length;
  // Outages: the call rate while the sandbox was down.
  const out = a.outage;
  if (out.from !== undefined && out.to !== undefined) {
    // A sample at t counts the second (t-1, t].
    const during = a.timeline.filter((s) => s.t > out.from! && s.t <= out.to!);
    const worker = during.filter((s) => s.workerCallsPerSec !== null);
    if (worker.length) {
      const peak = worker.reduce((m, s) => (s.workerCallsPerSec! > m.workerCallsPerSec! ? s : m));
      out.peakWorkerCallsPerSec = peak.workerCallsPerSec!;
      out.peakWorkerCallsAt = peak.t;
      const rest = worker.filter((s) => s.t > out.from! + 1.5);
      out.peakWorkerCallsPerSecAfterFirst = rest.length ? Math.max(...rest.map((s) => s.workerCallsPerSec!)) : undefined;
      out.totalWorkerCalls = worker.reduce((sum, s) => sum + s.workerCallsPerSec!, 0);
    }
    const refused = during.filter((s) => s.refusedConnectsPerSec !== null);
    if (refused.length) {
      out.peakRefusedConnectsPerSec = Math.max(...refused.map((s) => s.refusedConnectsPerSec!));
      out.totalRefusedConnects = refused.reduce((sum, s) => sum + s.refusedConnectsPerSec!, 0);
    }
    // For scale: the sandbox-counted rate in the seconds before the outage in which the worker was working.
    const before = a.timeline.filter((s) => s.t <= out.from! && s.vendorCallsPerSec !== null && s.vendorCallsPerSec > 0).map((s) => s.vendorCallsPerSec!);
    out.callsPerSecBefore = before.length ? median(before) : undefined;
  }
  const capturesTotal = a.vendorIncarnations.reduce((s, v) => s + v.captures, 0);
  const succeededKeys = a.keys.filter((k) => byKey.get(k)?.some((r) => r.topic === 'succeeded')).length;
  const exitCodes: Record<string, number> = {};
  for (const w of workers) if (w.exit !== undefined && !w.killedByCampaign) exitCodes[w.exit] = (exitCodes[w.exit] ?? 0) + 1;
  for (const stall of a.stalls) {
    stall.workerExits = workers.filter((w) => !w.killedByCampaign && w.endedAt !== undefined && w.endedAt >= stall.from! && w.endedAt <= stall.to! + 30).length;
  }
  return {
    stalls: a.stalls,
    stamp: a.stamp,
    commit: gitDescribe(),
    options: a.o,
    topics: a.runId,
    processes: a.entry.mode,
    elapsedSec: a.elapsedSec,
    finished: a.finished,
    requests: a.keys.length,
    requestRecordsInLog: [...requestCount.values()].reduce((s, c) => s + c, 0),
    requestKeysDuplicated,
    terminalOutcomes,
    terminalKeys,
    byKind,
    lost: lostKeys.length,
    lostKeys: lostKeys.slice(0, 50),
    duplicates,
    duplicateReports,
    replayedAttempts: [...attemptCount.values()].filter((c) => c > 1).length,
    dlq,
    workerRestarts: { total: workers.length - 1, afterKill: a.supervisor.afterKill, afterExit: a.supervisor.afterExit, afterHang: a.supervisor.afterHang, exitCodes },
    workers: workers.map(({ proc: _proc, healthPort: _port, ...w }) => ({ ...w, startedAt: (w.startedAt - a.t0) / 1000, endedAt: w.endedAt === undefined ? undefined : (w.endedAt - a.t0) / 1000 })),
    faults: a.faults,
    broker: a.broker,
    outage: out,
    vendor: { incarnations: a.vendorIncarnations, capturesTotal, succeededKeys, capturedAgainAfterRestart: capturesTotal - succeededKeys },
    timeline: a.timeline,
    logDir: a.logDir,
  };
}

/** The summary table and the explanation of every duplicate, as lines. */
export function summaryLines(r: CampaignResult): string[] {
  const rows: Array<[string, string]> = [];
  const pct = (n: number, d: number): string => (d ? ` (${((100 * n) / d).toFixed(1)}%)` : '');
  rows.push(['requests', `${r.requests} (${r.options.unknownShare * 100}% scripted unknown-1..3)`]);
  rows.push(['request records in the log', `${r.requestRecordsInLog}${r.requestKeysDuplicated ? `, ${r.requestKeysDuplicated} keys twice` : ''}`]);
  rows.push(['terminal outcomes', `${r.terminalOutcomes} for ${r.terminalKeys} keys — succeeded ${r.byKind.succeeded}, failed ${r.byKind.failed}, unknown final ${r.byKind.finalUnknown}`]);
  rows.push(['non-final unknown outcomes', String(r.byKind.nonFinalUnknown)]);
  rows.push(['LOST (no terminal outcome)', `${r.lost}${pct(r.lost, r.requests)}`]);
  rows.push(['duplicate terminal outcomes', `${r.duplicates}${r.duplicates ? ` (${r.duplicateReports.length} keys)` : ''}`]);
  rows.push(['non-final attempts published twice', String(r.replayedAttempts)]);
  rows.push(['DLQ entries', String(r.dlq)]);
  rows.push([
    'worker restarts',
    `${r.workerRestarts.total}: ${r.workerRestarts.afterKill} after kill -9, ${r.workerRestarts.afterExit} after exiting on its own, ${r.workerRestarts.afterHang} by the watchdog (fatal error logged, process did not exit)${Object.keys(r.workerRestarts.exitCodes).length ? ` (exit codes ${JSON.stringify(r.workerRestarts.exitCodes)})` : ''}`,
  ]);
  rows.push([
    'broker restart',
    r.broker.restarted ? `stopped in ${r.broker.stopSec!.toFixed(1)}s, answering ${r.broker.startSec!.toFixed(1)}s after start (${r.broker.downSec!.toFixed(1)}s down)` : 'not done',
  ]);
  rows.push([
    'broker stalls',
    r.stalls.length
      ? r.stalls
          .map(
            (x) =>
              `${x.seconds}s at t=${x.from?.toFixed(1) ?? '–'}s (${x.transactionsInFlight ?? '?'} transactions open; first commit ${x.recoverySec?.toFixed(1) ?? '–'}s after SIGCONT; ${x.workerExits} worker exits)`,
          )
          .join(', ')
      : 'none',
  ]);
  rows.push(['broker at the end', r.broker.healthyAtEnd ? 'running, answering' : 'NOT HEALTHY']);
  const out = r.outage;
  rows.push(['sandbox outage', out.actualSec !== undefined ? `${out.actualSec.toFixed(1)}s (t=${out.from!.toFixed(1)}…${out.to!.toFixed(1)}s), planned ${out.plannedSec}s` : 'not done']);
  rows.push(['API calls/s before the outage', out.callsPerSecBefore !== undefined ? `${out.callsPerSecBefore} (sandbox-counted, median of the busy seconds)` : '–']);
  rows.push([
    'peak API calls/s during the outage',
    out.peakWorkerCallsPerSec !== undefined
      ? `${out.peakWorkerCallsPerSec} at t=${out.peakWorkerCallsAt}s (worker-counted; ${out.peakWorkerCallsPerSecAfterFirst ?? '–'} after the first second; MAX_IN_FLIGHT=${r.options.inflight}), ${out.totalWorkerCalls} calls in the whole outage`
      : '–',
  ]);
  rows.push([
    'refused TCP connects during the outage',
    out.peakRefusedConnectsPerSec !== undefined ? `peak ${out.peakRefusedConnectsPerSec}/s, ${out.totalRefusedConnects} in all (kernel AttemptFails, whole namespace)` : '–',
  ]);
  const v = r.vendor;
  rows.push([
    'vendor (sandbox) captures',
    `${v.incarnations.map((x, i) => `#${i + 1}: ${x.captures} captures / ${x.calls} calls`).join(', ')} = ${v.capturesTotal} captures for ${v.succeededKeys} succeeded keys: ${v.capturedAgainAfterRestart} captured again by the restarted sandbox (its idempotency store had been lost with the process)`,
  ]);
  rows.push(['elapsed', `${r.elapsedSec.toFixed(0)}s from the first join${r.finished ? '' : ' (TIMEOUT: not finished)'}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, val]) => `  ${k.padEnd(w)}  ${val}`);
  lines.push('', '  faults:');
  for (const f of r.faults) lines.push(`    ${f.kind.padEnd(15)} planned t=${f.plannedAt.toFixed(1)}s, ran t=${f.startedAt?.toFixed(1) ?? '–'}…${f.endedAt?.toFixed(1) ?? '–'}s: ${f.detail}`);
  lines.push('  workers:');
  for (const x of r.workers)
    lines.push(
      `    #${x.n} t=${x.startedAt.toFixed(1)}…${x.endedAt?.toFixed(1) ?? '–'}s peak RSS ${x.peakRssMb?.toFixed(0) ?? '–'} MB exit ${x.exit ?? '–'}${x.hungAfterFatal ? ' (hung after its fatal error: watchdog kill)' : x.killedByCampaign ? ' (kill -9)' : ''} — ${x.reason}${x.exitReason ? `\n        exited because: ${x.exitReason}` : ''}`,
    );
  for (const d of r.duplicateReports) {
    lines.push(`  duplicate ${d.key}: ${d.cause}`);
    for (const rec of d.records)
      lines.push(`    ${rec.topic} p${rec.partition}@${rec.offset} attempt ${rec.attempt} ${rec.resultCode} written ${new Date(rec.timestamp).toISOString()} by worker#${rec.worker ?? '?'}`);
    for (const l of d.logLines.slice(0, 6)) lines.push(`    ${l.slice(0, 300)}`);
  }
  if (r.lost) lines.push(`  lost keys (first ${r.lostKeys.length}): ${r.lostKeys.join(', ')}`);
  return lines;
}

/** The per-second call rate around the outage, as lines. */
export function outageTimelineLines(r: CampaignResult, marginSec = 3): string[] {
  const out = r.outage;
  if (out.from === undefined || out.to === undefined) return [];
  const lines = ['    t s  sandbox  worker calls/s  sandbox calls/s  refused conn/s  circuit    in flight  retries held  worker'];
  for (const s of r.timeline.filter((x) => x.t >= out.from! - marginSec && x.t <= out.to! + marginSec + 2)) {
    const f = (v: number | null): string => (v === null ? '–' : String(v));
    lines.push(
      `  ${s.t.toFixed(0).padStart(5)}  ${(s.sandboxUp ? 'up' : 'DOWN').padEnd(7)}  ${f(s.workerCallsPerSec).padStart(14)}  ${f(s.vendorCallsPerSec).padStart(15)}  ${f(s.refusedConnectsPerSec).padStart(14)}  ${(s.circuit ?? '–').padEnd(9)}  ${f(s.inFlight).padStart(9)}  ${f(s.retriesPending).padStart(12)}  ${s.worker === null ? 'down' : `#${s.worker}`}`,
    );
  }
  return lines;
}
