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
 * (and a copy in bench/results/history/, git-ignored) with the per-second timeline; worker and sandbox logs go to
 * bench/results/fault-campaign-logs/ (git-ignored *.log). Exit code 1 when a request was lost, an
 * outcome was duplicated, the run timed out or the broker was not left healthy.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../src/util/sleep';
import { benchArgs, envPairs, log, nonNegative, numberList, type OptionSpec } from './lib/cli';
import { DEFAULT_OPTIONS, outageTimelineLines, runCampaign, summaryLines, type CampaignOptions, type CampaignResult } from './lib/fault-campaign';
import { runMain, stopChildrenOnExit } from './lib/proc';
import { RESULTS, writeResult } from './lib/report';

const OPTIONS = {
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
} satisfies OptionSpec;

function parseOptions(): (Partial<CampaignOptions> & { runs: number }) | undefined {
  const values = benchArgs(__filename, OPTIONS);
  if (!values) return undefined;
  const d = DEFAULT_OPTIONS;
  const share = nonNegative('unknown-share', values['unknown-share'], d.unknownShare);
  if (share > 1) throw new Error('--unknown-share is a fraction between 0 and 1');
  return {
    runs: Math.max(1, nonNegative('runs', values.runs, 1)),
    events: nonNegative('events', values.events, d.events),
    unknownShare: share,
    kills: nonNegative('kills', values.kills, d.kills),
    outageSeconds: nonNegative('outage-seconds', values['outage-seconds'], d.outageSeconds),
    rate: nonNegative('rate', values.rate, d.rate),
    partitions: nonNegative('partitions', values.partitions, d.partitions),
    inflight: nonNegative('inflight', values.inflight, d.inflight),
    latencyMs: nonNegative('latency', values.latency, d.latencyMs),
    jitterMs: nonNegative('jitter', values.jitter, d.jitterMs),
    retryMaxDelayMs: nonNegative('retry-max-delay-ms', values['retry-max-delay-ms'], d.retryMaxDelayMs),
    timeoutSeconds: nonNegative('timeout-seconds', values['timeout-seconds'], d.timeoutSeconds),
    ...(values['fault-span-seconds'] !== undefined && { faultSpanSeconds: nonNegative('fault-span-seconds', values['fault-span-seconds']) }),
    seed: nonNegative('seed', values.seed, d.seed),
    logLevel: values['log-level'] ?? d.logLevel,
    brokerRestart: !values['no-broker-restart'],
    stalls: values.stalls === undefined ? d.stalls : numberList('stalls', values.stalls),
    keepTopics: values['keep-topics'],
    tsx: values.tsx,
    verbose: values.verbose,
    extraEnv: envPairs(values.env),
  };
}

async function main(): Promise<number> {
  const parsed = parseOptions();
  if (!parsed) return 0;
  const { runs, ...options } = parsed;
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
    let r: CampaignResult | undefined;
    for (let attempt = 1; !r; attempt++) {
      try {
        r = await runCampaign({ ...options, seed, logDir: runLogDir }, log);
      } catch (error) {
        if (attempt >= 3) throw error;
        harnessErrors++;
        log(`campaign run ${run} could not complete (${(error as Error).message}); running it again`);
        await sleep(5000);
      }
    }

    log('\nAPI calls around the sandbox outage, per second (worker calls: its capture_api_latency_seconds_count, one per call incl. refused');
    log('connections, counted when the call ends; sandbox calls: /sandbox/stats while it is up; refused: kernel Tcp AttemptFails):');
    for (const line of outageTimelineLines(r)) log(line);
    log('\nfault campaign summary');
    for (const line of summaryLines(r)) log(line);

    const written = writeResult('fault-campaign-latest.json', r, `fault-campaign-${r.stamp.replace(/:/g, '')}.json`);
    log(`\nwrote ${written} (timeline: ${r.timeline.length} samples); logs in ${runLogDir}`);
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

runMain(main, 'fault campaign');
