/**
 * Fault campaign: kill -9 the worker at random points, restart the broker once, freeze it
 * (SIGSTOP/SIGCONT) for each --stalls duration, take the sandbox down; then count every committed
 * outcome per request (see bench/lib/fault-campaign.ts).
 *
 *   npm run bench:faults -- [--events 20000] [--unknown-share 0.2] [--kills 5] [--outage-seconds 30]
 *                           [--rate 200] [--partitions 12] [--inflight 500] [--latency 20] [--jitter 20]
 *                           [--retry-max-delay-ms 10000] [--timeout-seconds 900] [--seed N]
 *                           [--no-broker-restart] [--stalls 20,60] [--runs 1] [--fault-span-seconds S] [--log-level info]
 *                           [--keep-topics] [--tsx] [--verbose] [--env NAME=VALUE ...]
 *
 * Prints a progress line every ~2 s and a summary table; writes bench/results/fault-campaign-latest.json
 * (and a copy in bench/results/history/) with the per-second timeline; worker and sandbox logs go to
 * bench/results/fault-campaign-logs/ (git-ignored *.log). Exit code 1 when a request was lost, an
 * outcome was duplicated, the run timed out or the broker was not left healthy.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { printedUsage } from './lib/usage';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/build';
import { DEFAULT_OPTIONS, outageTimelineLines, runCampaign, summaryLines, type CampaignOptions } from './lib/fault-campaign';
import { stopAll, stopChildrenOnExit } from './lib/proc';

const RESULTS = join(ROOT, 'bench', 'results');
const log = (line: string): void => void process.stdout.write(`${line}\n`);

function parseOptions(argv: string[]): Partial<CampaignOptions> & { runs: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      'unknown-share': { type: 'string' },
      kills: { type: 'string' },
      'outage-seconds': { type: 'string' },
      rate: { type: 'string' },
      partitions: { type: 'string' },
      inflight: { type: 'string' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      'retry-max-delay-ms': { type: 'string' },
      'timeout-seconds': { type: 'string' },
      'fault-span-seconds': { type: 'string' },
      seed: { type: 'string' },
      'log-level': { type: 'string' },
      'no-broker-restart': { type: 'boolean', default: false },
      stalls: { type: 'string' },
      runs: { type: 'string' },
      'keep-topics': { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  const num = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const d = DEFAULT_OPTIONS;
  const share = num('unknown-share', values['unknown-share'], d.unknownShare);
  if (share > 1) throw new Error('--unknown-share is a fraction between 0 and 1');
  return {
    runs: Math.max(1, num('runs', values.runs, 1)),
    events: num('events', values.events, d.events),
    unknownShare: share,
    kills: num('kills', values.kills, d.kills),
    outageSeconds: num('outage-seconds', values['outage-seconds'], d.outageSeconds),
    rate: num('rate', values.rate, d.rate),
    partitions: num('partitions', values.partitions, d.partitions),
    inflight: num('inflight', values.inflight, d.inflight),
    latencyMs: num('latency', values.latency, d.latencyMs),
    jitterMs: num('jitter', values.jitter, d.jitterMs),
    retryMaxDelayMs: num('retry-max-delay-ms', values['retry-max-delay-ms'], d.retryMaxDelayMs),
    timeoutSeconds: num('timeout-seconds', values['timeout-seconds'], d.timeoutSeconds),
    ...(values['fault-span-seconds'] !== undefined && { faultSpanSeconds: num('fault-span-seconds', values['fault-span-seconds'], 0) }),
    seed: num('seed', values.seed, d.seed),
    logLevel: values['log-level'] ?? d.logLevel,
    brokerRestart: !values['no-broker-restart'],
    stalls:
      values.stalls === undefined
        ? d.stalls
        : values.stalls
            .split(',')
            .filter(Boolean)
            .map((v) => num('stalls', v, 0)),
    keepTopics: values['keep-topics']!,
    tsx: values.tsx!,
    verbose: values.verbose!,
    extraEnv: Object.fromEntries(values.env!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
}

async function main(): Promise<number> {
  if (printedUsage(__filename)) return 0;
  const { runs, ...options } = parseOptions(process.argv.slice(2));
  stopChildrenOnExit();
  const logDir = join(RESULTS, 'fault-campaign-logs');
  if (runs > 1) rmSync(logDir, { recursive: true, force: true });
  const perRun: string[] = [];
  let harnessErrors = 0;
  let failed = 0;
  for (let run = 1; run <= runs; run++) {
    if (runs > 1) log(`\n===== run ${run}/${runs} =====`);
    // Each run's logs of its own, so a failure or an exit in any run can be explained afterwards.
    const runLogDir = runs > 1 ? join(logDir, `run-${run}`) : logDir;
    rmSync(runLogDir, { recursive: true, force: true });
    // Each run its own seed (the first one the given one), so the faults land elsewhere every time.
    const seed = run === 1 && options.seed !== undefined ? options.seed : Math.floor(Math.random() * 2 ** 31);
    // A failure of the campaign itself (not a lost or duplicated outcome: those are results), such as
    // a topic not yet served right after it was created, repeats the run rather than end the series.
    let r: Awaited<ReturnType<typeof runCampaign>> | undefined;
    for (let attempt = 1; !r; attempt++) {
      try {
        r = await runCampaign({ ...options, seed, logDir: runLogDir }, log);
      } catch (error) {
        if (attempt >= 3) throw error;
        harnessErrors++;
        log(`campaign run ${run} could not complete (${(error as Error).message}); running it again`);
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }

    log('\nAPI calls around the sandbox outage, per second (worker calls: its capture_api_latency_seconds_count, one per call incl. refused');
    log('connections, counted when the call ends; sandbox calls: /sandbox/stats while it is up; refused: kernel Tcp AttemptFails):');
    for (const line of outageTimelineLines(r)) log(line);
    log('\nfault campaign summary');
    for (const line of summaryLines(r)) log(line);

    mkdirSync(join(RESULTS, 'history'), { recursive: true });
    const body = JSON.stringify(r, null, 2);
    writeFileSync(join(RESULTS, 'fault-campaign-latest.json'), body);
    writeFileSync(join(RESULTS, 'history', `fault-campaign-${r.stamp.replace(/:/g, '')}.json`), body);
    log(`\nwrote bench/results/fault-campaign-latest.json (timeline: ${r.timeline.length} samples); logs in ${runLogDir}`);
    const ok = r.finished && r.lost === 0 && r.duplicates === 0 && r.broker.healthyAtEnd;
    if (!ok) failed++;
    const stalls = r.stalls.map((x) => `${x.seconds}s/${x.transactionsInFlight ?? '?'}tx→${x.recoverySec?.toFixed(1) ?? '–'}s`).join(' ');
    perRun.push(`run ${run} seed ${seed}: lost ${r.lost}, duplicates ${r.duplicates}, worker exits ${r.workerRestarts.afterExit}, stalls ${stalls || 'none'}${r.finished ? '' : ', TIMEOUT'}`);
    log(
      ok
        ? `PASS: lost 0, duplicates 0; worker exits on their own: ${r.workerRestarts.afterExit}`
        : `FAIL: ${[!r.finished && 'timed out', r.lost && `${r.lost} lost`, r.duplicates && `${r.duplicates} duplicates`, !r.broker.healthyAtEnd && 'broker not healthy'].filter(Boolean).join(', ')}`,
    );
  }
  if (runs > 1) {
    log(`\n${runs} runs (stalls: seconds/transactions open at the freeze→first commit after SIGCONT); ${harnessErrors} runs repeated after a campaign error:`);
    for (const line of perRun) log(`  ${line}`);
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: Error) => {
    console.error(`fault campaign failed: ${error.stack ?? error.message}`);
    await stopAll();
    process.exit(2);
  },
);
