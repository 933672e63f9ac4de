/**
 * End-to-end benchmark: the capture worker against a plain KafkaJS `eachMessage` worker
 * (bench/baseline-worker.ts) and against the signing ceiling, all in one run so the ratios hold
 * on a shared, noisy machine.
 *
 *   npx tsx bench/e2e.ts [--events|--requests 20000] [--partitions <TOPIC_PARTITIONS default>] [--latency 100[,0]]
 *                        [--inflight <MAX_IN_FLIGHT default>] [--connections <API_CONNECTIONS default>]
 *                        [--baseline-seconds 20] [--paced-seconds 5] [--paced-load 0.5] [--warmup 0]
 *                        [--warmup-seconds 5] [--signing-seconds 3] [--no-baseline] [--no-paced] [--profile]
 *                        [--tsx] [--verbose] [--env NAME=VALUE ...] [--node-flags "..."] [--compare-ref GIT_REF]
 *                        [--compare-tracing]
 *
 * By default (`npm run bench`: --latency 100,0) every setting is the product's default: 20,000
 * requests, TOPIC_PARTITIONS partitions, and MAX_IN_FLIGHT / API_CONNECTIONS left to the worker's
 * configuration, no warm-up. The output says which settings of a run differ from that (e.g. a
 * warmed-up, tuned run: --warmup 3000 --inflight 1000), and labels its results so.
 *
 * For each sandbox latency L, four measured runs, each on fresh topics (K partitions) and a
 * fresh process (compiled JS under bench/.build), with the sandbox in its own process:
 *   worker   saturated  N requests at once → throughput, CPU ms/capture, peak RSS
 *   worker   paced      open-loop requests at paced-load × its saturated rate → p50/p99 latency
 *   baseline saturated  as above, capped at --baseline-seconds (throughput extrapolated)
 *   baseline paced      as above
 * With --warmup a run first warms up (not measured: --warmup requests, at most --warmup-seconds);
 * paced runs always warm up at their own pace for 2 s. Throughput counts committed outcomes from
 * the first to the last one in the measured window, and "from start": from the moment the first
 * of the N requests was sent to the last outcome; the worker / baseline ratio is given both ways.
 * Latency is requestedAt → outcome record timestamp (also shown: → visible to a read_committed
 * consumer). CPU is /proc utime+stime over the measured window, split into the main (JS) thread
 * and the other threads (libuv threadpool crypto, V8 GC/compiler helpers); the sandbox's, the
 * broker's and this process's CPU, and the whole machine's busy/steal share, are shown too.
 * The signing ceiling (project signMessage, threadpool, concurrency 64) is measured in this
 * process before and after; the mean is used.
 * --compare-ref adds, per L, a saturated run of the worker built from another commit (e.g. the
 * one before a change), right after this tree's, and reports this tree's throughput against it.
 * Results: bench/results/e2e-latest.{json,svg,png}, and a copy of the JSON in bench/results/history/ (git-ignored).
 * --compare-tracing adds, per L, a saturated run of this tree with OpenTelemetry tracing on
 * (OTLP/HTTP to a sink in this process), to measure what tracing costs.
 * --profile adds, per L, one more (unscored) saturated worker run of 2N under `node --cpu-prof`
 * and prints its top self-time functions (profiles in bench/results/profiles/; samples are
 * wall-clock, so on a saturated machine they include time the thread was preempted).
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toEnv } from '../src/config/environment';
import { stackStatus } from '../tools/stack/native-stack';
import { build, buildRef, type Entrypoints } from './lib/build';
import { benchArgs, envPairs, log, nonNegative, numberList, type OptionSpec } from './lib/cli';
import { chart, table, verdictLine, verdicts, type LatencyReport } from './lib/e2e/report';
import { Bench, type E2eOptions, type Reference } from './lib/e2e/run';
import { productDefaults, type ProductDefaults } from './lib/product-defaults';
import { runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { f0, f3, RESULTS, stampNow, writeResult } from './lib/report';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess, type KeyFiles } from './lib/setup';
import { measureSigningCeiling, type SigningCeiling } from './lib/signing-ceiling';
import { formatSummary, summarize } from './profile-summary';

/** The default run's size and sandbox latency (the rest of its settings are the worker's own defaults). */
const DEFAULT_EVENTS = 20_000;
const DEFAULT_LATENCY_MS = 100;

const OPTIONS = {
  events: { type: 'string' },
  requests: { type: 'string' },
  partitions: { type: 'string' },
  latency: { type: 'string', default: String(DEFAULT_LATENCY_MS) },
  inflight: { type: 'string' },
  connections: { type: 'string' },
  'baseline-seconds': { type: 'string', default: '20' },
  'paced-seconds': { type: 'string', default: '5' },
  'paced-load': { type: 'string', default: '0.5' },
  'signing-seconds': { type: 'string', default: '3' },
  'max-seconds': { type: 'string', default: '180' },
  warmup: { type: 'string', default: '0' },
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
} satisfies OptionSpec;

function parseOptions(d: ProductDefaults): E2eOptions | undefined {
  const values = benchArgs(__filename, OPTIONS);
  if (!values) return undefined;
  const optional = (name: 'inflight' | 'connections'): number | undefined => (values[name] === undefined ? undefined : nonNegative(name, values[name]));
  return {
    events: nonNegative('events', values.requests ?? values.events, DEFAULT_EVENTS),
    partitions: nonNegative('partitions', values.partitions, d.partitions),
    latencies: numberList('latency', values.latency),
    inflight: optional('inflight'),
    // As in the worker: API_CONNECTIONS follows MAX_IN_FLIGHT unless it is given.
    connections: optional('connections') ?? optional('inflight'),
    baselineSeconds: nonNegative('baseline-seconds', values['baseline-seconds']),
    pacedSeconds: nonNegative('paced-seconds', values['paced-seconds']),
    pacedLoad: nonNegative('paced-load', values['paced-load']),
    signingSeconds: nonNegative('signing-seconds', values['signing-seconds']),
    maxSeconds: nonNegative('max-seconds', values['max-seconds']),
    warmup: nonNegative('warmup', values.warmup),
    warmupSeconds: nonNegative('warmup-seconds', values['warmup-seconds']),
    baseline: !values['no-baseline'],
    paced: !values['no-paced'],
    profile: values.profile,
    tsx: values.tsx,
    nodeFlags: values['node-flags'].split(/\s+/).filter(Boolean),
    verbose: values.verbose,
    extraEnv: envPairs(values.env),
    compareRef: values['compare-ref'],
    compareTracing: values['compare-tracing'],
  };
}

/** The settings of this run that are not the default run's (the product's defaults, 20,000 requests, 100 ms). */
function differences(o: E2eOptions, d: ProductDefaults): string[] {
  const out: string[] = [];
  if (o.events !== DEFAULT_EVENTS) out.push(`${o.events} requests (default run: ${DEFAULT_EVENTS})`);
  if (o.partitions !== d.partitions) out.push(`${o.partitions} partitions (TOPIC_PARTITIONS default: ${d.partitions})`);
  if (o.inflight !== undefined && o.inflight !== d.maxInFlight) out.push(`MAX_IN_FLIGHT=${o.inflight} (default: ${d.maxInFlight})`);
  if (o.connections !== undefined && o.connections !== (o.inflight ?? d.maxInFlight)) out.push(`API_CONNECTIONS=${o.connections} (default: MAX_IN_FLIGHT)`);
  if (o.warmup > 0) out.push(`warmed up with ${o.warmup} requests before each measured run (default: none)`);
  if (!o.latencies.includes(DEFAULT_LATENCY_MS)) out.push(`sandbox latency ${o.latencies.join(',')} ms (default run: ${DEFAULT_LATENCY_MS} ms)`);
  for (const [name, value] of Object.entries(o.extraEnv)) out.push(`${name}=${value} (--env)`);
  if (o.nodeFlags.length) out.push(`worker node flags ${o.nodeFlags.join(' ')}`);
  return out;
}

/** One line naming the run's configuration: the default one, or what differs. */
function configurationLine(o: E2eOptions, d: ProductDefaults, diff: string[]): string {
  const settings = `K=${o.partitions} partitions · MAX_IN_FLIGHT=${o.inflight ?? d.maxInFlight} · API_CONNECTIONS=${o.connections ?? o.inflight ?? d.connections} · N=${o.events}`;
  return diff.length === 0 ? `DEFAULT configuration (${settings}, no warm-up)` : `NOT the default configuration (${settings}): ${diff.join('; ')}`;
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

interface Variants {
  reference?: Reference;
  traced?: Reference;
}

/** Every run at one sandbox latency, against one sandbox process. */
async function runLatency(bench: Bench, o: E2eOptions, entry: Entrypoints, keys: KeyFiles, latencyMs: number, variants: Variants, stamp: string): Promise<LatencyReport> {
  log(`\n== sandbox latency ${latencyMs} ms ==`);
  const sandbox = await startSandboxProcess(entry, keys, latencyMs, o.verbose);
  const saturated = (reference?: Reference) => bench.run({ kind: 'worker', mode: 'saturated', latencyMs, sandbox, reference });
  try {
    const worker = await saturated();
    const report: LatencyReport = { latencyMs, worker };
    if (variants.reference) report.reference = { ...(await saturated(variants.reference)), ref: variants.reference.ref };
    if (variants.traced) report.traced = { ...(await saturated(variants.traced)), ref: variants.traced.ref };
    if (o.paced) report.workerPaced = await bench.run({ kind: 'worker', mode: 'paced', latencyMs, sandbox, pacedRate: Math.max(1, worker.throughput * o.pacedLoad) });
    if (o.baseline) {
      report.baseline = await bench.run({ kind: 'baseline', mode: 'saturated', latencyMs, sandbox });
      if (o.paced) report.baselinePaced = await bench.run({ kind: 'baseline', mode: 'paced', latencyMs, sandbox, pacedRate: Math.max(1, report.baseline.throughput * o.pacedLoad) });
    }
    if (o.profile) {
      const profileDir = join(RESULTS, 'profiles', `worker-L${latencyMs}-${stamp.replace(/:/g, '')}`);
      mkdirSync(profileDir, { recursive: true });
      const profiled = await bench.run({ kind: 'worker', mode: 'saturated', latencyMs, sandbox, profileDir });
      if (profiled.profile) {
        const summary = summarize(profiled.profile, 25);
        report.profile = { file: profiled.profile, summary };
        log(`\nprofile of the worker at L=${latencyMs} (${profiled.throughput.toFixed(0)}/s under the profiler): ${profiled.profile}`);
        log(formatSummary(summary, 15));
      }
    }
    return report;
  } finally {
    await sandbox.proc.stop();
  }
}

async function signingCeiling(seconds: number, when: string): Promise<SigningCeiling> {
  log(`\nsigning ceiling ${when} (${seconds}s, project signMessage, concurrency 64)…`);
  const c = await measureSigningCeiling(seconds);
  log(`  ${c.signsPerSec.toFixed(0)} signs/s (serial ${c.serialSignsPerSec.toFixed(0)}/s), ${c.cpuMsPerSign.toFixed(3)} CPU ms/sign`);
  return c;
}

function meanCeiling(before: SigningCeiling, after: SigningCeiling): SigningCeiling {
  const mean = (k: 'signsPerSec' | 'cpuMsPerSign' | 'serialSignsPerSec'): number => (before[k] + after[k]) / 2;
  return { ...before, signsPerSec: mean('signsPerSec'), cpuMsPerSign: mean('cpuMsPerSign'), serialSignsPerSec: mean('serialSignsPerSec') };
}

interface Outcome {
  o: E2eOptions;
  defaults: ProductDefaults;
  diff: string[];
  reports: LatencyReport[];
  ceilings: { before: SigningCeiling; after: SigningCeiling };
  entry: Entrypoints;
  stamp: string;
  traceSpans?: number;
}

function report(x: Outcome): void {
  const { o, reports } = x;
  const ceiling = meanCeiling(x.ceilings.before, x.ceilings.after);
  log(`\nresults — ${configurationLine(o, x.defaults, x.diff)}`);
  log(
    `saturated runs (${o.warmup > 0 ? `WARMED UP with ${o.warmup} requests, then ` : ''}N=${o.events} sent at once): captures/s from the first committed outcome to the last, and from the first request sent`,
  );
  log(`to the last outcome ("from start"); CPU per capture over the latter window (utime+stime). Latency: paced runs at ${o.pacedLoad * 100}% of each one's saturated rate,`);
  log('requestedAt → outcome record timestamp ("visible": → seen by a read_committed consumer). Machine busy/steal: all cores, during the saturated run.');
  for (const line of table(reports, ceiling)) log(line);
  if (reports.some((r) => r.baseline?.capped)) log(`* baseline capped at ${o.baselineSeconds}s before finishing N=${o.events}: its throughput is extrapolated from what it did in that time`);
  for (const r of reports) {
    for (const ref of [r.reference, r.traced]) {
      if (!ref) continue;
      log(
        `\nL=${r.latencyMs}: this tree ${f0(r.worker.throughput)}/s (from start ${f0(r.worker.throughputFromStart)}/s, ${f3(r.worker.cpuMsPerCapture)} CPU ms) vs ${ref.ref} ${f0(ref.throughput)}/s (from start ${f0(ref.throughputFromStart)}/s, ${f3(ref.cpuMsPerCapture)} CPU ms): ${(r.worker.throughput / ref.throughput).toFixed(2)}×`,
      );
    }
  }
  if (x.traceSpans !== undefined) log(`tracing sink received ${x.traceSpans} spans`);
  const v = verdicts(reports, ceiling);
  log('\nratios');
  if (x.diff.length) log(`  (the targets are for the default configuration; this run differs: ${x.diff.join('; ')})`);
  for (const line of v.map(verdictLine)) log(line);
  const settings = x.diff.length
    ? `K=${o.partitions}, M=${o.inflight ?? x.defaults.maxInFlight}, N=${o.events}, not the defaults`
    : `default configuration (K=${o.partitions}, M=${x.defaults.maxInFlight}, N=${o.events})`;
  const png = chart(reports, ceiling, o, settings, x.stamp);
  const json = {
    stamp: x.stamp,
    commit: gitDescribe(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    options: o,
    productDefaults: x.defaults,
    differsFromDefaults: x.diff,
    processes: x.entry.mode,
    signingCeiling: { mean: ceiling, ...x.ceilings },
    reports: reports.map((r) => ({
      ...r,
      profile: r.profile && { file: r.profile.file, top: r.profile.summary.selfByFunction.slice(0, 15), packages: r.profile.summary.selfByPackage.slice(0, 10) },
    })),
    verdicts: v,
  };
  const written = writeResult('e2e-latest.json', json, `e2e-${x.stamp.replace(/:/g, '')}-L${o.latencies.join('_')}.json`);
  log(`\nwrote ${written}, e2e-latest.svg${png ? ', e2e-latest.png' : ' (no PNG: install rsvg-convert, apt-get install librsvg2-bin)'}`);
}

async function main(): Promise<void> {
  const defaults = productDefaults();
  const o = parseOptions(defaults);
  if (!o) return;
  stopChildrenOnExit();
  const stamp = stampNow();
  const diff = differences(o, defaults);
  const stack = await ensureStack();
  log(`capture-worker e2e bench · ${configurationLine(o, defaults, diff)} · L=${o.latencies.join(',')} ms`);
  log(`kafka ${stack.brokers} · registry ${stack.registryUrl} · ${cpus().length} cores · node ${process.version} · ${gitDescribe()}`);
  const entry = build(o.tsx);
  const variants: Variants = o.compareRef ? { reference: { ref: o.compareRef, worker: buildRef(o.compareRef) } } : {};
  if (variants.reference) log(`comparing with the worker of ${variants.reference.ref} (${variants.reference.worker[0]})`);
  // Spans go to a sink in this process that answers like a collector, so tracing costs what it costs in production minus the network.
  const sink = o.compareTracing ? await startTraceSink() : undefined;
  if (sink) variants.traced = { ref: 'tracing on', worker: entry.worker, env: toEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }) };
  log(`processes run as ${entry.mode === 'js' ? 'compiled JS (bench/.build)' : 'TypeScript through tsx'}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  let bench: Bench | undefined;
  try {
    const keys = await makeKeys(dir);
    const before = await signingCeiling(o.signingSeconds, 'before');
    const brokerPid = (await stackStatus().catch(() => [])).find((c) => c.name === 'kafka')?.pid;
    bench = new Bench(o, stack, entry, keys, brokerPid);
    const reports: LatencyReport[] = [];
    for (const latencyMs of o.latencies) reports.push(await runLatency(bench, o, entry, keys, latencyMs, variants, stamp));
    const after = await signingCeiling(o.signingSeconds, 'after');
    report({ o, defaults, diff, reports, ceilings: { before, after }, entry, stamp, traceSpans: sink?.spans() });
  } finally {
    sink?.close();
    await stopAll();
    await bench?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
