/**
 * End-to-end benchmark: the capture worker against a plain KafkaJS `eachMessage` worker
 * (bench/baseline-worker.ts) and against the signing ceiling, all in one run so the ratios hold
 * on a shared, noisy machine.
 *
 *   npx tsx bench/e2e.ts [--events 5000] [--partitions 12] [--latency 100[,0]] [--inflight 1000]
 *                        [--connections <inflight>] [--baseline-seconds 20] [--paced-seconds 5]
 *                        [--paced-load 0.5] [--warmup 3000] [--warmup-seconds 5] [--signing-seconds 3]
 *                        [--no-baseline] [--no-paced] [--profile] [--tsx] [--verbose]
 *                        [--env NAME=VALUE ...] [--node-flags "..."] [--compare-ref GIT_REF] [--compare-tracing]
 *
 * For each sandbox latency L, four measured runs, each on fresh topics (K partitions) and a
 * fresh process (compiled JS under bench/.build), with the sandbox in its own process:
 *   worker   saturated  N requests at once → throughput, CPU ms/capture, peak RSS
 *   worker   paced      open-loop requests at paced-load × its saturated rate → p50/p99 latency
 *   baseline saturated  as above, capped at --baseline-seconds (throughput extrapolated)
 *   baseline paced      as above
 * Every run first warms up (not measured: --warmup requests, at most --warmup-seconds; paced runs
 * warm up at their own pace for 2 s). Throughput counts committed outcomes from the first to the
 * last one in the measured window ("from start": from the moment the N requests were sent).
 * Latency is requestedAt → outcome record timestamp (also shown: → visible to a read_committed
 * consumer). CPU is /proc utime+stime over the measured window, split into the main (JS) thread
 * and the other threads (libuv threadpool crypto, V8 GC/compiler helpers); the sandbox's, the
 * broker's and this process's CPU, and the whole machine's busy/steal share, are shown too.
 * The signing ceiling (project signMessage, threadpool, concurrency 64) is measured in this
 * process before and after; the mean is used.
 * --compare-ref adds, per L, a saturated run of the worker built from another commit (e.g. the
 * one before a change), right after this tree's, and reports this tree's throughput against it.
 * Results: bench/results/e2e-latest.{json,svg,png}, and a copy of the JSON in bench/results/history/.
 * --compare-tracing adds, per L, a saturated run of this tree with OpenTelemetry tracing on
 * (OTLP/HTTP to a sink in this process), to measure what tracing costs.
 * --profile adds, per L, one more (unscored) saturated worker run of 2N under `node --cpu-prof`
 * and prints its top self-time functions (profiles in bench/results/profiles/; samples are
 * wall-clock, so on a saturated machine they include time the thread was preempted).
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { printedUsage } from './lib/usage';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { EventCodec } from '../src/events/event-codec';
import { build, buildRef, ROOT, type Entrypoints } from './lib/build';
import { renderSvg, writeChart, type Panel } from './lib/chart';
import { benchKafka, createTopics, recordCount, freshTopics, OutcomeCollector, percentile, RequestProducer, topicList, type BenchTopics, withAdmin } from './lib/kafka';
import { machineCpuMs, pidCpuMs, Proc, runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { stackStatus } from '../tools/stack/native-stack';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess, workerEnv, type KeyFiles, type Stack } from './lib/setup';
import { measureSigningCeiling, type SigningCeiling } from './lib/signing-ceiling';
import { formatSummary, summarize, type ProfileSummary } from './profile-summary';

const RESULTS = join(ROOT, 'bench', 'results');
const ERROR_LINE = /"level":"(error|fatal)"/g;
const CONCURRENT_TXN = /Failed to send messages: The producer attempted to update a transaction while another concurrent operation/g;
const CPU_OVERHEAD_BUDGET_MS = 0.35;

type Kind = 'worker' | 'baseline';
type Mode = 'saturated' | 'paced';

interface RunResult {
  kind: Kind;
  mode: Mode;
  latencyMs: number;
  requested: number;
  completed: number;
  /** The run hit its time cap before every request had an outcome. */
  capped: boolean;
  elapsedSec: number;
  /** Captures/s from the first committed outcome to the last (steady state; the ratios use this). */
  throughput: number;
  /** Captures/s from the process having joined its group to the last outcome (includes start-up). */
  throughputFromStart: number;
  pacedRate?: number;
  latency: { p50: number; p99: number; max: number; visibleP50: number; visibleP99: number };
  cpuMsPerCapture: number;
  /** Of that: the main (JavaScript) thread, and the other threads (threadpool crypto, GC helpers). Threads that exited during the run are not counted. */
  mainThreadCpuMsPerCapture: number;
  otherThreadsCpuMsPerCapture: number;
  /** CPU ms per capture of each thread, by thread id (ascending: V8 platform threads first, then the libuv threadpool). */
  threadCpuMsPerCapture: Record<string, number>;
  cpuUtilization: number;
  peakRssMb: number;
  sandboxCpuMsPerCapture: number;
  /** The Kafka broker's and this bench process's (producer + collector) CPU per capture. */
  brokerCpuMsPerCapture: number;
  benchCpuMsPerCapture: number;
  /** Whole machine during the run: busy and stolen CPU, % of all cores. */
  machineBusyPct: number;
  machineStealPct: number;
  /** Log lines at error level from the process, and of those, KafkaJS CONCURRENT_TRANSACTIONS retries. */
  errorLines: number;
  concurrentTransactionRetries: number;
  outcomes: Record<string, number>;
  duplicates: number;
  /** The collector's consumer got the same record twice (a KafkaJS-side re-delivery, not a duplicate). */
  collectorRedeliveries: number;
  profile?: string;
}

interface Options {
  events: number;
  partitions: number;
  latencies: number[];
  inflight: number;
  connections: number;
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
  extraEnv: NodeJS.ProcessEnv;
  compareRef?: string;
  compareTracing: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '5000' },
      partitions: { type: 'string', default: '12' },
      latency: { type: 'string', default: '100' },
      inflight: { type: 'string', default: '1000' },
      connections: { type: 'string' },
      'baseline-seconds': { type: 'string', default: '20' },
      'paced-seconds': { type: 'string', default: '5' },
      'paced-load': { type: 'string', default: '0.5' },
      'signing-seconds': { type: 'string', default: '3' },
      'max-seconds': { type: 'string', default: '180' },
      warmup: { type: 'string', default: '3000' },
      'warmup-seconds': { type: 'string', default: '5' },
      'no-baseline': { type: 'boolean', default: false },
      'no-paced': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      'node-flags': { type: 'string', default: '' },
      verbose: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
      'compare-ref': { type: 'string' },
      'compare-tracing': { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const inflight = num('inflight', values.inflight);
  return {
    events: num('events', values.events),
    partitions: num('partitions', values.partitions),
    latencies: values.latency!.split(',').map((v) => num('latency', v)),
    inflight,
    connections: values.connections ? num('connections', values.connections) : inflight,
    baselineSeconds: num('baseline-seconds', values['baseline-seconds']),
    pacedSeconds: num('paced-seconds', values['paced-seconds']),
    pacedLoad: num('paced-load', values['paced-load']),
    signingSeconds: num('signing-seconds', values['signing-seconds']),
    maxSeconds: num('max-seconds', values['max-seconds']),
    warmup: num('warmup', values.warmup),
    warmupSeconds: num('warmup-seconds', values['warmup-seconds']),
    baseline: !values['no-baseline'],
    paced: !values['no-paced'],
    profile: values.profile!,
    tsx: values.tsx!,
    nodeFlags: values['node-flags']!.split(/\s+/).filter(Boolean),
    verbose: values.verbose!,
    extraEnv: Object.fromEntries(values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    compareRef: values['compare-ref'],
    compareTracing: values['compare-tracing']!,
  };
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);

class Bench {
  private readonly kafka: Kafka;
  private readonly codec: EventCodec;
  private readonly created: BenchTopics[] = [];

  constructor(
    private readonly o: Options,
    private readonly stack: Stack,
    private readonly entry: Entrypoints,
    private readonly keys: KeyFiles,
    private readonly brokerPid: number | undefined,
  ) {
    this.kafka = benchKafka(stack.brokers);
    this.codec = EventCodec.forUrl(stack.registryUrl);
  }

  /** `reference`: run another worker (--compare-ref: another commit's) or this one with more settings (--compare-tracing). */
  async run(kind: Kind, mode: Mode, latencyMs: number, sandbox: { proc: Proc; url: string }, pacedRate = 0, profileDir?: string, reference?: Reference): Promise<RunResult> {
    const o = this.o;
    const topics = freshTopics(`bench-${kind}-L${latencyMs}`);
    await withAdmin(this.kafka, (admin) => createTopics(admin, topics, o.partitions));
    this.created.push(topics);
    const collector = await OutcomeCollector.start(this.kafka, [topics.succeeded, topics.failed, topics.unknown]);
    const producer = await RequestProducer.create(this.kafka, this.codec, topics.requested, topics.id);
    let proc: Proc | undefined;
    try {
      const env =
        kind === 'worker'
          ? workerEnv(this.stack, this.keys, sandbox.url, topics, { MAX_IN_FLIGHT: String(o.inflight), API_CONNECTIONS: String(o.connections), ...o.extraEnv, ...reference?.env })
          : workerEnv(this.stack, this.keys, sandbox.url, topics, { PARTITIONS_CONCURRENTLY: String(o.partitions) });
      const script = kind === 'worker' ? [...(reference?.worker ?? this.entry.worker), 'run'] : this.entry.baseline;
      const nodeFlags = [...(kind === 'worker' ? o.nodeFlags : []), ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
      const label = `${kind}${reference ? `@${reference.ref}` : ''} L=${latencyMs} ${mode}${profileDir ? ' (profiled)' : ''}`;
      const events = profileDir ? o.events * 2 : o.events;
      proc = new Proc(label, process.execPath, [...nodeFlags, ...script], env, o.verbose);
      await proc.waitFor(kind === 'worker' ? /partitions assigned/ : /baseline ready/, 60_000);
      const running = proc;
      const progress = (phase: string, t0: number, expected: () => string): (() => void) => {
        let lastTick = t0;
        let lastCount = collector.count;
        let lastCpu = running.cpuMs();
        return () => {
          const now = Date.now();
          if (now - lastTick < 1000) return;
          const cpu = running.cpuMs();
          const rate = ((collector.count - lastCount) * 1000) / (now - lastTick);
          log(
            `  ${`${label} ${phase}`.padEnd(36)} ${((now - t0) / 1000).toFixed(0).padStart(4)}s  ${String(collector.count).padStart(6)}/${expected()} outcomes  ` +
              `${rate.toFixed(0).padStart(6)}/s  cpu ${((100 * (cpu - lastCpu)) / (now - lastTick)).toFixed(0).padStart(3)}%  rss ${running.peakRssMb().toFixed(0)}MB`,
          );
          lastTick = now;
          lastCount = collector.count;
          lastCpu = cpu;
        };
      };
      const waitUntil = async (done: () => boolean, capMs: number, tick: () => void): Promise<boolean> => {
        const deadline = Date.now() + capMs;
        while (!done()) {
          if (!running.alive) throw new Error(`${label} exited (code ${running.child.exitCode}):\n${running.tail()}`);
          if (Date.now() > deadline) return false;
          tick();
          await new Promise((r) => setTimeout(r, 25));
        }
        return true;
      };

      // Warm-up (not measured): connections, JIT, caches. Bounded in time for a slow baseline;
      // leftovers are worked off inside the measured window and counted there.
      // A paced run warms up at its own pace, so no backlog is left in front of the measured requests.
      const warmStart = Date.now();
      const warmup = mode === 'saturated' ? o.warmup : await producer.paced(pacedRate, Math.min(2, o.warmupSeconds));
      if (mode === 'saturated') await producer.send(warmup);
      await waitUntil(
        () => collector.count >= warmup,
        (mode === 'saturated' ? o.warmupSeconds : o.warmupSeconds + 10) * 1000,
        progress('warm-up', warmStart, () => String(warmup)),
      );
      const warmKeys = new Set(producer.requestedAt.keys());

      const count0 = collector.count;
      const cpu0 = proc.cpuMs();
      const threads0 = proc.threadCpuMs();
      const sandboxCpu0 = sandbox.proc.cpuMs();
      const brokerCpu0 = this.brokerPid ? pidCpuMs(this.brokerPid) : NaN;
      const self0 = process.cpuUsage();
      const machine0 = machineCpuMs();
      const errors0 = proc.count(ERROR_LINE);
      const concurrent0 = proc.count(CONCURRENT_TXN);
      const t0 = Date.now();
      const capMs = (kind === 'baseline' && mode === 'saturated' ? o.baselineSeconds : mode === 'paced' ? o.pacedSeconds + 30 : o.maxSeconds) * 1000;
      let requested = 0;
      let produced = false;
      const producing = mode === 'saturated' ? producer.send(events).then(() => events) : producer.paced(pacedRate, o.pacedSeconds, () => Date.now() - t0 > capMs);
      void producing.then(
        (n) => {
          requested = n;
          produced = true;
        },
        () => undefined,
      );
      const finished = await waitUntil(
        () => produced && collector.count >= warmup + requested,
        capMs,
        progress(mode === 'saturated' ? 'measured' : 'paced', t0, () => (produced ? String(warmup + requested) : '…')),
      );
      const capped = !finished;
      const tEnd = capped ? Date.now() : collector.lastSeenAt;
      const cpu1 = proc.cpuMs();
      const threads1 = proc.threadCpuMs();
      const sandboxCpu1 = sandbox.proc.cpuMs();
      const brokerCpu1 = this.brokerPid ? pidCpuMs(this.brokerPid) : NaN;
      const self = process.cpuUsage(self0);
      const machine1 = machineCpuMs();
      const peakRssMb = proc.peakRssMb();
      requested = await producing;
      if (mode === 'saturated') {
        const inLog = await withAdmin(this.kafka, (admin) => recordCount(admin, topics.requested));
        if (inLog !== warmup + events) log(`  warning: ${inLog} records in ${topics.requested}, expected ${warmup + events}`);
      }
      // Outcomes inside the measured window (including warm-up leftovers, which were work done in it).
      const completed = collector.count - count0;
      const lat: number[] = [];
      const visible: number[] = [];
      const outcomes: Record<string, number> = {};
      let firstSeen = Infinity;
      let lastSeen = 0;
      for (const [key, out] of collector.outcomes) {
        const status = out.topic.slice(out.topic.lastIndexOf('.') + 1);
        outcomes[status] = (outcomes[status] ?? 0) + 1;
        if (out.seenAt >= t0) {
          firstSeen = Math.min(firstSeen, out.seenAt);
          lastSeen = Math.max(lastSeen, out.seenAt);
        }
        if (warmKeys.has(key)) continue;
        const at = producer.requestedAt.get(key)!;
        lat.push(out.timestamp - at);
        visible.push(out.seenAt - at);
      }
      lat.sort((a, b) => a - b);
      visible.sort((a, b) => a - b);
      const elapsedSec = Math.max(0.001, (tEnd - t0) / 1000);
      const per = (ms: number): number => ms / Math.max(1, completed);
      const result: RunResult = {
        kind,
        mode,
        latencyMs,
        requested,
        completed,
        capped,
        elapsedSec,
        throughput: lastSeen > firstSeen ? (completed - 1) / ((lastSeen - firstSeen) / 1000) : NaN,
        throughputFromStart: completed / elapsedSec,
        ...(mode === 'paced' && { pacedRate }),
        latency: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? NaN, visibleP50: percentile(visible, 50), visibleP99: percentile(visible, 99) },
        cpuMsPerCapture: per(cpu1 - cpu0),
        mainThreadCpuMsPerCapture: per(threads1.main - threads0.main),
        otherThreadsCpuMsPerCapture: per(threads1.others - threads0.others),
        threadCpuMsPerCapture: Object.fromEntries(Object.entries(threads1.byTid).map(([tid, ms]) => [tid, Number(per(ms - (threads0.byTid[tid] ?? 0)).toFixed(4))])),
        cpuUtilization: (cpu1 - cpu0) / (elapsedSec * 1000),
        peakRssMb,
        sandboxCpuMsPerCapture: per(sandboxCpu1 - sandboxCpu0),
        brokerCpuMsPerCapture: per(brokerCpu1 - brokerCpu0),
        benchCpuMsPerCapture: per((self.user + self.system) / 1000),
        machineBusyPct: (100 * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total),
        machineStealPct: (100 * (machine1.steal - machine0.steal)) / (machine1.total - machine0.total),
        errorLines: proc.count(ERROR_LINE) - errors0,
        concurrentTransactionRetries: proc.count(CONCURRENT_TXN) - concurrent0,
        outcomes,
        duplicates: collector.duplicates,
        collectorRedeliveries: collector.redeliveries,
      };
      log(
        `  ${label}: ${completed} outcomes in ${elapsedSec.toFixed(1)}s${capped ? ` (time cap; ${warmup + requested - collector.count} not done)` : ''} → ${result.throughput.toFixed(0)}/s (${result.throughputFromStart.toFixed(0)}/s from start), ` +
          `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, CPU ${result.cpuMsPerCapture.toFixed(3)} ms/capture (main thread ${result.mainThreadCpuMsPerCapture.toFixed(3)}, other threads ${result.otherThreadsCpuMsPerCapture.toFixed(3)}), peak RSS ${peakRssMb.toFixed(0)} MB, outcomes ${JSON.stringify(outcomes)}` +
          `${result.duplicates ? `, ${result.duplicates} duplicate outcomes` : ''}${result.collectorRedeliveries ? `, ${result.collectorRedeliveries} collector re-deliveries` : ''}${result.errorLines ? `, ${result.errorLines} error log lines (${result.concurrentTransactionRetries} CONCURRENT_TRANSACTIONS)` : ''}`,
      );
      const exit = await proc.stop();
      if (exit !== 0 && exit !== null) log(`  warning: ${label} exited with code ${exit}:\n${proc.tail(5)}`);
      if (profileDir) {
        const file = readdirSync(profileDir)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()
          .pop();
        if (file) result.profile = join(profileDir, file);
      }
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
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteTopics({ topics: this.created.flatMap((t) => topicList(t)), timeout: 30_000 });
    } catch (error) {
      log(`warning: could not delete bench topics: ${(error as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** A variant of the worker run right after this tree's, under the same load. */
interface Reference {
  ref: string;
  worker: string[];
  env?: NodeJS.ProcessEnv;
}

interface LatencyReport {
  latencyMs: number;
  worker: RunResult;
  workerPaced?: RunResult;
  baseline?: RunResult;
  baselinePaced?: RunResult;
  /** The --compare-ref worker, saturated. */
  reference?: RunResult & { ref: string };
  /** --compare-tracing: this tree with OpenTelemetry exporting to a local sink. */
  traced?: RunResult & { ref: string };
  profile?: { file: string; summary: ProfileSummary };
}

/** Answers OTLP/HTTP trace exports with 200 and counts the spans. */
async function startTraceSink(): Promise<{ url: string; spans(): number; close(): void }> {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      spans += (
        Buffer.concat(chunks)
          .toString()
          .match(/"spanId"/g) ?? []
      ).length;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans: () => spans, close: () => server.close() };
}

const f0 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(0));
const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));

function table(reports: LatencyReport[], ceiling: SigningCeiling): string[] {
  const head = [
    'L ms',
    'process',
    'captures/s',
    'from start',
    'done',
    'p50 ms',
    'p99 ms',
    'p99 visible',
    'paced at/s',
    'CPU ms/cap',
    'main thr',
    'other thr',
    'CPU %',
    'peak RSS MB',
    'sandbox ms/cap',
    'broker ms/cap',
    'machine busy %',
    'steal %',
  ];
  const rows: string[][] = [];
  for (const r of reports) {
    for (const [name, sat, paced] of [
      ['worker', r.worker, r.workerPaced],
      ['baseline', r.baseline, r.baselinePaced],
    ] as const) {
      if (!sat) continue;
      rows.push([
        String(r.latencyMs),
        name,
        f0(sat.throughput),
        f0(sat.throughputFromStart) + (sat.capped ? '*' : ''),
        `${sat.completed}/${sat.requested}`,
        f0(paced?.latency.p50),
        f0(paced?.latency.p99),
        f0(paced?.latency.visibleP99),
        f0(paced?.pacedRate),
        f3(sat.cpuMsPerCapture),
        f3(sat.mainThreadCpuMsPerCapture),
        f3(sat.otherThreadsCpuMsPerCapture),
        f0(sat.cpuUtilization * 100),
        f0(Math.max(sat.peakRssMb, paced?.peakRssMb ?? 0)),
        f3(sat.sandboxCpuMsPerCapture),
        f3(sat.brokerCpuMsPerCapture),
        f0(sat.machineBusyPct),
        f0(sat.machineStealPct),
      ]);
    }
  }
  rows.push(['', 'signing ceiling', f0(ceiling.signsPerSec), '', '', '', '', '', '', f3(ceiling.cpuMsPerSign), '', '', '', '', '', '', '', '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

interface Verdict {
  name: string;
  value: number;
  target: number;
  unit: string;
  pass: boolean;
  note: string;
}

function verdicts(reports: LatencyReport[], ceiling: SigningCeiling, o: Options): Verdict[] {
  const out: Verdict[] = [];
  const cpuTarget = ceiling.cpuMsPerSign + CPU_OVERHEAD_BUDGET_MS;
  for (const r of reports) {
    const scored = o.partitions === 12 && o.inflight === 1000;
    const note = scored ? '' : ` (targets are for K=12, M=1000; this run: K=${o.partitions}, M=${o.inflight})`;
    if (r.baseline) {
      const ratio = r.worker.throughput / r.baseline.throughput;
      const fromStart = r.worker.throughputFromStart / r.baseline.throughputFromStart;
      out.push({
        name: `L=${r.latencyMs}: worker / baseline throughput`,
        value: ratio,
        target: r.latencyMs >= 100 ? 15 : NaN,
        unit: '×',
        pass: r.latencyMs >= 100 ? ratio >= 15 : true,
        note: `(from start: ${fromStart.toFixed(1)}×)` + (r.latencyMs >= 100 ? '' : ' (informational)') + note,
      });
    }
    const share = r.worker.throughput / ceiling.signsPerSec;
    out.push({
      name: `L=${r.latencyMs}: worker / signing ceiling`,
      value: share * 100,
      target: r.latencyMs === 0 ? 80 : NaN,
      unit: '%',
      pass: r.latencyMs === 0 ? share >= 0.8 : true,
      note: `(from start: ${((100 * r.worker.throughputFromStart) / ceiling.signsPerSec).toFixed(1)}%)` + (r.latencyMs === 0 ? '' : ' (informational)') + note,
    });
    out.push({
      name: `L=${r.latencyMs}: worker CPU ms/capture vs signing ${ceiling.cpuMsPerSign.toFixed(3)} + ${CPU_OVERHEAD_BUDGET_MS}`,
      value: r.worker.cpuMsPerCapture,
      target: cpuTarget,
      unit: 'ms',
      pass: r.worker.cpuMsPerCapture <= cpuTarget,
      note,
    });
    // Context for the throughput ratios: what the whole machine spends per capture, and what
    // the worker could do if it had the machine to itself.
    const w = r.worker;
    const machineMs = w.cpuMsPerCapture + w.sandboxCpuMsPerCapture + (Number.isFinite(w.brokerCpuMsPerCapture) ? w.brokerCpuMsPerCapture : 0) + w.benchCpuMsPerCapture;
    const machineCap = (cpus().length * 1000) / machineMs;
    out.push({
      name: `L=${r.latencyMs}: machine CPU per capture (worker ${w.cpuMsPerCapture.toFixed(2)} + sandbox ${w.sandboxCpuMsPerCapture.toFixed(2)} + broker ${w.brokerCpuMsPerCapture.toFixed(2)} + bench ${w.benchCpuMsPerCapture.toFixed(2)} ms) caps this machine at ${machineCap.toFixed(0)}/s${r.baseline ? ` = ${(machineCap / r.baseline.throughput).toFixed(1)}× baseline` : ''}; the worker reached (from start, the same window as the CPU)`,
      value: (100 * w.throughputFromStart) / machineCap,
      target: NaN,
      unit: '% of that cap',
      pass: true,
      note: '',
    });
    const alone = (ceiling.signsPerSec * ceiling.cpuMsPerSign) / w.cpuMsPerCapture;
    out.push({
      name: `L=${r.latencyMs}: worker alone on this machine (ceiling × sign CPU / worker CPU per capture) ≈ ${alone.toFixed(0)}/s, as a share of the ceiling`,
      value: (100 * alone) / ceiling.signsPerSec,
      target: NaN,
      unit: '% of signing ceiling',
      pass: true,
      note: '',
    });
  }
  return out;
}

function chart(reports: LatencyReport[], ceiling: SigningCeiling, o: Options, stamp: string): string | null {
  const worker = '#1f77b4';
  const baseline = '#ff7f0e';
  const sign = '#7f7f7f';
  const panels: Panel[] = [
    {
      title: 'Throughput (captures/s)',
      groups: reports.map((r) => ({
        label: `L=${r.latencyMs} ms`,
        bars: [
          { label: 'worker', value: r.worker.throughput, color: worker },
          ...(r.baseline ? [{ label: 'baseline', value: r.baseline.throughput, color: baseline }] : []),
          { label: 'sign ceiling', value: ceiling.signsPerSec, color: sign },
        ],
        targets:
          r.latencyMs === 0 ? [{ value: ceiling.signsPerSec * 0.8, label: '80% ceiling' }] : r.baseline && r.latencyMs >= 100 ? [{ value: r.baseline.throughput * 15, label: '15× baseline' }] : [],
      })),
    },
    {
      title: 'CPU ms per capture',
      groups: reports.map((r) => ({
        label: `L=${r.latencyMs} ms`,
        bars: [
          { label: 'worker', value: r.worker.cpuMsPerCapture, color: worker },
          ...(r.baseline ? [{ label: 'baseline', value: r.baseline.cpuMsPerCapture, color: baseline }] : []),
          { label: 'one signature', value: ceiling.cpuMsPerSign, color: sign },
        ],
        targets: [{ value: ceiling.cpuMsPerSign + CPU_OVERHEAD_BUDGET_MS, label: 'sign + 0.35' }],
      })),
    },
    {
      title: `E2E latency p50 / p99 (ms, at ${o.pacedLoad * 100}% load)`,
      groups: reports
        .filter((r) => r.workerPaced)
        .map((r) => ({
          label: `L=${r.latencyMs} ms`,
          bars: [
            { label: 'worker p50', value: r.workerPaced!.latency.p50, color: worker },
            { label: 'worker p99', value: r.workerPaced!.latency.p99, color: '#aec7e8' },
            ...(r.baselinePaced
              ? [
                  { label: 'baseline p50', value: r.baselinePaced.latency.p50, color: baseline },
                  { label: 'baseline p99', value: r.baselinePaced.latency.p99, color: '#ffbb78' },
                ]
              : []),
          ],
        })),
    },
  ].filter((p) => p.groups.length > 0);
  const svg = renderSvg(
    `capture-worker vs plain KafkaJS eachMessage — K=${o.partitions}, M=${o.inflight}, N=${o.events}`,
    `${stamp} · ${cpus().length} cores · node ${process.version}${reports.some((r) => r.baseline?.capped) ? ` · baseline capped at ${o.baselineSeconds}s (its throughput extrapolated)` : ''}`,
    panels,
  );
  return writeChart(join(RESULTS, 'e2e-latest'), svg);
}

async function main(): Promise<void> {
  if (printedUsage(__filename)) return;
  const o = parseOptions(process.argv.slice(2));
  stopChildrenOnExit();
  const stamp = new Date().toISOString().replace(/\..*/, '');
  const stack = await ensureStack();
  log(`capture-worker e2e bench · K=${o.partitions} partitions · M=${o.inflight} in flight · API_CONNECTIONS=${o.connections} · N=${o.events} · L=${o.latencies.join(',')} ms`);
  log(`kafka ${stack.brokers} · registry ${stack.registryUrl} · ${cpus().length} cores · node ${process.version} · ${gitDescribe()}`);
  const entry = build(o.tsx);
  const reference = o.compareRef ? { ref: o.compareRef, worker: buildRef(o.compareRef) } : undefined;
  if (reference) log(`comparing with the worker of ${o.compareRef} (${reference.worker[0]})`);
  // Spans go to a sink in this process that answers like a collector, so tracing costs what it costs in production minus the network.
  const sink = o.compareTracing ? await startTraceSink() : undefined;
  const traced: Reference | undefined = sink ? { ref: 'tracing on', worker: entry.worker, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } } : undefined;
  log(`processes run as ${entry.mode === 'js' ? 'compiled JS (bench/.build)' : 'TypeScript through tsx'}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const keys = await makeKeys(dir);
  mkdirSync(join(RESULTS, 'history'), { recursive: true });
  let bench: Bench | undefined;
  try {
    log(`signing ceiling (${o.signingSeconds}s, project signMessage, concurrency 64)…`);
    const before = await measureSigningCeiling(o.signingSeconds);
    log(`  ${before.signsPerSec.toFixed(0)} signs/s (serial ${before.serialSignsPerSec.toFixed(0)}/s), ${before.cpuMsPerSign.toFixed(3)} CPU ms/sign`);

    const brokerPid = (await stackStatus().catch(() => [])).find((c) => c.name === 'kafka')?.pid;
    bench = new Bench(o, stack, entry, keys, brokerPid);
    const reports: LatencyReport[] = [];
    for (const latencyMs of o.latencies) {
      log(`\n== sandbox latency ${latencyMs} ms ==`);
      const sandbox = await startSandboxProcess(entry, keys, latencyMs, o.verbose);
      try {
        const worker = await bench.run('worker', 'saturated', latencyMs, sandbox);
        const report: LatencyReport = { latencyMs, worker };
        if (reference) report.reference = { ...(await bench.run('worker', 'saturated', latencyMs, sandbox, 0, undefined, reference)), ref: reference.ref };
        if (traced) report.traced = { ...(await bench.run('worker', 'saturated', latencyMs, sandbox, 0, undefined, traced)), ref: traced.ref };
        if (o.paced) report.workerPaced = await bench.run('worker', 'paced', latencyMs, sandbox, Math.max(1, worker.throughput * o.pacedLoad));
        if (o.baseline) {
          report.baseline = await bench.run('baseline', 'saturated', latencyMs, sandbox);
          if (o.paced) report.baselinePaced = await bench.run('baseline', 'paced', latencyMs, sandbox, Math.max(1, report.baseline.throughput * o.pacedLoad));
        }
        if (o.profile) {
          const profileDir = join(RESULTS, 'profiles', `worker-L${latencyMs}-${stamp.replace(/:/g, '')}`);
          mkdirSync(profileDir, { recursive: true });
          const profiled = await bench.run('worker', 'saturated', latencyMs, sandbox, 0, profileDir);
          if (profiled.profile) {
            const summary = summarize(profiled.profile, 25);
            report.profile = { file: profiled.profile, summary };
            log(`\nprofile of the worker at L=${latencyMs} (${profiled.throughput.toFixed(0)}/s under the profiler): ${profiled.profile}`);
            log(formatSummary(summary, 15));
          }
        }
        reports.push(report);
      } finally {
        await sandbox.proc.stop();
      }
    }

    log(`\nsigning ceiling again (${o.signingSeconds}s)…`);
    const after = await measureSigningCeiling(o.signingSeconds);
    log(`  ${after.signsPerSec.toFixed(0)} signs/s, ${after.cpuMsPerSign.toFixed(3)} CPU ms/sign`);
    const ceiling: SigningCeiling = {
      ...before,
      signsPerSec: (before.signsPerSec + after.signsPerSec) / 2,
      cpuMsPerSign: (before.cpuMsPerSign + after.cpuMsPerSign) / 2,
      serialSignsPerSec: (before.serialSignsPerSec + after.serialSignsPerSec) / 2,
    };

    log(`\nresults — saturated runs (after a ${o.warmup}-request warm-up, N=${o.events} sent at once): captures/s from the first committed outcome to the last`);
    log(`(ratios use it) and from sending; CPU per capture over that window (utime+stime). Latency: paced runs at ${o.pacedLoad * 100}% of each one's saturated rate,`);
    log('requestedAt → outcome record timestamp ("visible": → seen by a read_committed consumer). Machine busy/steal: all cores, during the saturated run.');
    for (const line of table(reports, ceiling)) log(line);
    if (reports.some((r) => r.baseline?.capped)) {
      log(`* baseline capped at ${o.baselineSeconds}s before finishing N=${o.events}: its throughput is extrapolated from what it did in that time`);
    }
    const v = verdicts(reports, ceiling, o);
    for (const r of reports) {
      for (const ref of [r.reference, r.traced]) {
        if (!ref) continue;
        log(
          `\nL=${r.latencyMs}: this tree ${f0(r.worker.throughput)}/s (from start ${f0(r.worker.throughputFromStart)}/s, ${f3(r.worker.cpuMsPerCapture)} CPU ms) vs ${ref.ref} ${f0(ref.throughput)}/s (from start ${f0(ref.throughputFromStart)}/s, ${f3(ref.cpuMsPerCapture)} CPU ms): ${(r.worker.throughput / ref.throughput).toFixed(2)}×`,
        );
      }
    }
    if (sink) log(`tracing sink received ${sink.spans()} spans`);
    log('\nratios');
    for (const x of v) {
      const target = Number.isFinite(x.target) ? ` (target ${x.unit === 'ms' ? '≤' : '≥'} ${x.unit === 'ms' ? x.target.toFixed(3) : x.target}${x.unit})` : '';
      const status = Number.isFinite(x.target) ? (x.pass ? 'PASS' : 'MISS') : '    ';
      const unit = x.unit.length > 2 ? ` ${x.unit}` : x.unit;
      log(`  ${status}  ${x.name}: ${x.unit === 'ms' ? x.value.toFixed(3) : x.value.toFixed(1)}${unit}${target}${x.note ? ` ${x.note.trim()}` : ''}`);
    }
    const png = chart(reports, ceiling, o, stamp);
    const json = {
      stamp,
      commit: gitDescribe(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      options: { ...o, extraEnv: o.extraEnv },
      processes: entry.mode,
      signingCeiling: { mean: ceiling, before, after },
      reports: reports.map((r) => ({
        ...r,
        profile: r.profile && { file: r.profile.file, top: r.profile.summary.selfByFunction.slice(0, 15), packages: r.profile.summary.selfByPackage.slice(0, 10) },
      })),
      verdicts: v,
    };
    const body = JSON.stringify(json, null, 2);
    writeFileSync(join(RESULTS, 'e2e-latest.json'), body);
    writeFileSync(join(RESULTS, 'history', `e2e-${stamp.replace(/:/g, '')}-L${o.latencies.join('_')}.json`), body);
    log(`\nwrote bench/results/e2e-latest.json, e2e-latest.svg${png ? ', e2e-latest.png' : ' (no PNG: install rsvg-convert, apt-get install librsvg2-bin)'}`);
  } finally {
    sink?.close();
    await stopAll();
    await bench?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
