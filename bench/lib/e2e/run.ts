/**
 * One measured run of bench/e2e.ts: fresh topics, a fresh worker (or baseline) process, an
 * optional warm-up, then N requests at once (saturated) or at a pace (paced), timed by a live
 * read_committed collector, with CPU of every process on the machine sampled around the window.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { EventRegistry } from '../../../src/events/registry';
import { sleep } from '../../../src/util/sleep';
import type { Entrypoints } from '../build';
import { benchKafka, createTopics, freshTopics, OutcomeCollector, recordCount, RequestProducer, topicList, type BenchTopics, withAdmin } from '../kafka';
import { log } from '../cli';
import { machineCpuMs, pidCpuMs, Proc } from '../proc';
import { workerEnv, type KeyFiles, type SandboxProcess, type Stack } from '../setup';
import { resultOf, type CpuSnapshot, type Kind, type Mode, type RunResult } from './result';
import { errorMessage } from '../../../src/util/errors';

export interface E2eOptions {
  events: number;
  partitions: number;
  latencies: number[];
  /** MAX_IN_FLIGHT and API_CONNECTIONS for the worker; undefined: the worker's own defaults. */
  inflight?: number;
  connections?: number;
  baselineSeconds: number;
  pacedSeconds: number;
  pacedLoad: number;
  signingSeconds: number;
  maxSeconds: number;
  warmup: number;
  warmupSeconds: number;
  baseline: boolean;
  paced: boolean;
  profile: boolean;
  tsx: boolean;
  /** Extra node flags for the worker process only (e.g. --max-semi-space-size=32). */
  nodeFlags: string[];
  verbose: boolean;
  extraEnv: Record<string, string>;
  compareRef?: string;
  compareTracing: boolean;
}

/** A variant of the worker run right after this tree's, under the same load. */
export interface Reference {
  ref: string;
  worker: string[];
  env?: NodeJS.ProcessEnv;
}

export interface RunSpec {
  kind: Kind;
  mode: Mode;
  latencyMs: number;
  sandbox: SandboxProcess;
  pacedRate?: number;
  /** Run under `node --cpu-prof`, profiles written here (and 2N requests). */
  profileDir?: string;
  /** Another worker (--compare-ref: another commit's) or this one with more settings (--compare-tracing). */
  reference?: Reference;
}

const ERROR_LINE = /"level":"(error|fatal)"/g;
const CONCURRENT_TXN = /Failed to send messages: The producer attempted to update a transaction while another concurrent operation/g;

/** The clients and the process of one run. */
interface Live {
  spec: RunSpec;
  label: string;
  topics: BenchTopics;
  collector: OutcomeCollector;
  producer: RequestProducer;
  proc: Proc;
}

export class Bench {
  private readonly kafka: Kafka;
  private readonly registry: EventRegistry;
  private readonly created: BenchTopics[] = [];

  constructor(
    private readonly o: E2eOptions,
    private readonly stack: Stack,
    private readonly entry: Entrypoints,
    private readonly keys: KeyFiles,
    private readonly brokerPid: number | undefined,
  ) {
    this.kafka = benchKafka(stack.brokers);
    this.registry = EventRegistry.forUrl(stack.registryUrl);
  }

  async run(spec: RunSpec): Promise<RunResult> {
    const topics = freshTopics(`bench-${spec.kind}-L${spec.latencyMs}`);
    await withAdmin(this.kafka, (admin) => createTopics(admin, topics, this.o.partitions));
    this.created.push(topics);
    const collector = await OutcomeCollector.start(this.kafka, topics);
    const producer = await RequestProducer.create(this.kafka, this.registry.codec, topics.requested, topics.id);
    let proc: Proc | undefined;
    try {
      proc = await this.startProcess(spec, topics);
      const r: Live = { spec, label: proc.name, topics, collector, producer, proc };
      const warm = await this.warmUp(r);
      const result = await this.measure(r, warm);
      const exit = await proc.stop();
      if (exit !== 0 && exit !== null) log(`  warning: ${r.label} exited with code ${exit}:\n${proc.tail(5)}`);
      if (spec.profileDir) result.profile = latestProfile(spec.profileDir);
      return result;
    } finally {
      await proc?.stop();
      await collector.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    }
  }

  /** Deletes every topic this run created (the broker is shared and long-lived). */
  async cleanup(): Promise<void> {
    if (this.created.length === 0) return;
    await withAdmin(this.kafka, (admin) => admin.deleteTopics({ topics: this.created.flatMap((t) => topicList(t)), timeout: 30_000 })).catch((error: unknown) =>
      log(`warning: could not delete bench topics: ${errorMessage(error)}`),
    );
  }

  private async startProcess({ kind, mode, latencyMs, sandbox, profileDir, reference }: RunSpec, topics: BenchTopics): Promise<Proc> {
    const o = this.o;
    const env =
      kind === 'worker'
        ? workerEnv(this.stack, this.keys, sandbox.url, topics, { MAX_IN_FLIGHT: o.inflight, API_CONNECTIONS: o.connections }, { ...o.extraEnv, ...reference?.env })
        : workerEnv(this.stack, this.keys, sandbox.url, topics, { KAFKA_PARTITIONS_CONCURRENCY: o.partitions });
    const script = kind === 'worker' ? [...(reference?.worker ?? this.entry.worker), 'run'] : this.entry.baseline;
    const nodeFlags = [...(kind === 'worker' ? o.nodeFlags : []), ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
    const label = `${kind}${reference ? `@${reference.ref}` : ''} L=${latencyMs} ${mode}${profileDir ? ' (profiled)' : ''}`;
    const proc = new Proc(label, process.execPath, [...nodeFlags, ...script], env, o.verbose);
    await proc.waitFor(kind === 'worker' ? /partitions assigned/ : /baseline ready/, 60_000);
    return proc;
  }

  /**
   * Warm-up (not measured; only with --warmup): connections, JIT, caches. Bounded in time for a slow
   * baseline; leftovers are worked off inside the measured window and counted there. A paced run
   * always warms up at its own pace for up to 2 s, so no backlog is left in front of the measured requests.
   */
  private async warmUp(r: Live): Promise<{ count: number; keys: Set<string> }> {
    const o = this.o;
    const saturated = r.spec.mode === 'saturated';
    const start = Date.now();
    const count = saturated ? o.warmup : await r.producer.paced(r.spec.pacedRate ?? 0, Math.min(2, o.warmupSeconds));
    if (saturated && count > 0) await r.producer.send(count);
    await waitUntil(
      r,
      () => r.collector.count >= count,
      (saturated ? o.warmupSeconds : o.warmupSeconds + 10) * 1000,
      progress(r, 'warm-up', start, () => String(count)),
    );
    return { count, keys: new Set(r.producer.requestedAt.keys()) };
  }

  private async measure(r: Live, warm: { count: number; keys: Set<string> }): Promise<RunResult> {
    const o = this.o;
    const { kind, mode, pacedRate = 0, profileDir } = r.spec;
    const events = profileDir ? o.events * 2 : o.events;
    const before = this.snapshot(r);
    const t0 = Date.now();
    const capMs = (kind === 'baseline' && mode === 'saturated' ? o.baselineSeconds : mode === 'paced' ? o.pacedSeconds + 30 : o.maxSeconds) * 1000;
    let requested = 0;
    let produced = false;
    const producing = mode === 'saturated' ? r.producer.send(events).then(() => events) : r.producer.paced(pacedRate, o.pacedSeconds, () => Date.now() - t0 > capMs);
    void producing.then(
      (n) => ((requested = n), (produced = true)),
      () => undefined,
    );
    const finished = await waitUntil(
      r,
      () => produced && r.collector.count >= warm.count + requested,
      capMs,
      progress(r, mode === 'saturated' ? 'measured' : 'paced', t0, () => (produced ? String(warm.count + requested) : '…')),
    );
    const tEnd = finished ? r.collector.lastSeenAt : Date.now();
    const after = this.snapshot(r);
    requested = await producing;
    if (mode === 'saturated') {
      const inLog = await withAdmin(this.kafka, (admin) => recordCount(admin, r.topics.requested));
      if (inLog !== warm.count + events) log(`  warning: ${inLog} records in ${r.topics.requested}, expected ${warm.count + events}`);
    }
    const result = resultOf({ ...r.spec, pacedRate, requested, capped: !finished, t0, tEnd, before, after, collector: r.collector, requestedAt: r.producer.requestedAt, warmKeys: warm.keys });
    logResult(r, result, warm.count + requested);
    return result;
  }

  private snapshot(r: Live): CpuSnapshot {
    return {
      count: r.collector.count,
      cpu: r.proc.cpuMs(),
      threads: r.proc.threadCpuMs(),
      sandboxCpu: r.spec.sandbox.proc.cpuMs(),
      brokerCpu: this.brokerPid ? pidCpuMs(this.brokerPid) : NaN,
      self: process.cpuUsage(),
      machine: machineCpuMs(),
      errors: r.proc.count(ERROR_LINE),
      concurrent: r.proc.count(CONCURRENT_TXN),
      peakRssMb: r.proc.peakRssMb(),
    };
  }
}

/** A progress line a second while a phase waits. */
function progress(r: Live, phase: string, t0: number, expected: () => string): () => void {
  let lastTick = t0;
  let lastCount = r.collector.count;
  let lastCpu = r.proc.cpuMs();
  return () => {
    const now = Date.now();
    if (now - lastTick < 1000) return;
    const cpu = r.proc.cpuMs();
    const rate = ((r.collector.count - lastCount) * 1000) / (now - lastTick);
    log(
      `  ${`${r.label} ${phase}`.padEnd(36)} ${((now - t0) / 1000).toFixed(0).padStart(4)}s  ${String(r.collector.count).padStart(6)}/${expected()} outcomes  ` +
        `${rate.toFixed(0).padStart(6)}/s  cpu ${((100 * (cpu - lastCpu)) / (now - lastTick)).toFixed(0).padStart(3)}%  rss ${r.proc.peakRssMb().toFixed(0)}MB`,
    );
    lastTick = now;
    lastCount = r.collector.count;
    lastCpu = cpu;
  };
}

/** Waits for `done`; false at the cap. Throws when the process exits. */
async function waitUntil(r: Live, done: () => boolean, capMs: number, tick: () => void): Promise<boolean> {
  const deadline = Date.now() + capMs;
  while (!done()) {
    if (!r.proc.alive) throw new Error(`${r.label} exited (code ${r.proc.child.exitCode ?? 'null'}):\n${r.proc.tail()}`);
    if (Date.now() > deadline) return false;
    tick();
    await sleep(25);
  }
  return true;
}

function logResult(r: Live, result: RunResult, expected: number): void {
  const { completed, elapsedSec, capped } = result;
  log(
    `  ${r.label}: ${completed} outcomes in ${elapsedSec.toFixed(1)}s${capped ? ` (time cap; ${expected - r.collector.count} not done)` : ''} → ${result.throughput.toFixed(0)}/s (${result.throughputFromStart.toFixed(0)}/s from start), ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, CPU ${result.cpuMsPerCapture.toFixed(3)} ms/capture (main thread ${result.mainThreadCpuMsPerCapture.toFixed(3)}, other threads ${result.otherThreadsCpuMsPerCapture.toFixed(3)}), peak RSS ${result.peakRssMb.toFixed(0)} MB, outcomes ${JSON.stringify(result.outcomes)}` +
      `${result.duplicates ? `, ${result.duplicates} duplicate outcomes` : ''}${result.collectorRedeliveries ? `, ${result.collectorRedeliveries} collector re-deliveries` : ''}${result.errorLines ? `, ${result.errorLines} error log lines (${result.concurrentTransactionRetries} CONCURRENT_TRANSACTIONS)` : ''}`,
  );
}

function latestProfile(dir: string): string | undefined {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .pop();
  return file && join(dir, file);
}
