/**
 * Recovery after an outage, as the vendor sees it: requests at a steady rate, the sandbox killed
 * for --outage seconds while they keep coming, then back on the same port; the sandbox counts the
 * calls each second. The peak in the --after seconds after it is back must stay within twice the
 * steady rate (the median of the 15 s before the outage). --compare-ref REF runs the worker of
 * another commit the same way right after, for the numbers before and after a change.
 *
 *   npm run bench:recovery -- [--rate 200] [--before 20] [--outage 30] [--after 30] [--latency 20]
 *                             [--jitter 20] [--latency-per-concurrent 0] [--partitions 12]
 *                             [--inflight 500] [--compare-ref REF] [--verbose]
 *
 * Writes bench/results/recovery-latest.json. Exit code 1 when a peak exceeds twice the steady rate.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { sleep } from '../src/util/sleep';
import { benchArgs, stringOptions, log } from './lib/cli';
import { build, buildRef } from './lib/build';
import { rateLines, recoveryReading, type RateSample, type RecoveryReading } from './lib/call-rate';
import { runMain, stopChildrenOnExit } from './lib/proc';
import { writeResult } from './lib/report';
import { gitDescribe } from './lib/setup';
import { VendorRun } from './lib/vendor-run';

const STEADY_SECONDS = 15;

async function main(): Promise<number> {
  const values = benchArgs(__filename, {
    ...stringOptions({ rate: '200', before: '20', outage: '30', after: '30', latency: '20', jitter: '20', 'latency-per-concurrent': '0', partitions: '12', inflight: '500' }),
    'compare-ref': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  });
  if (!values) return 0;
  const n = (name: keyof typeof values): number => Number(values[name]);
  const [rate, before, outage, after] = [n('rate'), n('before'), n('outage'), n('after')];
  if (before < STEADY_SECONDS + 3) throw new Error(`--before must leave ${STEADY_SECONDS} s of steady calls after the start (at least ${STEADY_SECONDS + 3})`);
  stopChildrenOnExit();
  const entry = build();
  const workers: Array<[string, string[]]> = [[gitDescribe(), entry.worker]];
  if (values['compare-ref']) workers.push([values['compare-ref'], buildRef(values['compare-ref'])]);
  log(`$ npm run bench:recovery -- ${process.argv.slice(2).join(' ')}`);
  log(
    `recovery · ${rate} requests/s · sandbox down ${outage} s after ${before} s · latency ${values.latency}±${values.jitter} ms + ${values['latency-per-concurrent']} ms per concurrent call · ${values.partitions} partitions · MAX_IN_FLIGHT=${values.inflight}`,
  );

  const results: Array<{ worker: string; reading: RecoveryReading; samples: RateSample[]; outage: [number, number] }> = [];
  for (const [label, worker] of workers) {
    const run = await VendorRun.start({
      label: 'recovery',
      entry,
      worker,
      partitions: n('partitions'),
      latencyMs: n('latency'),
      sandboxFlags: ['--jitter-ms', values.jitter, '--latency-per-concurrent-ms', values['latency-per-concurrent']],
      settings: { MAX_IN_FLIGHT: values.inflight },
      verbose: values.verbose,
    });
    try {
      const producing = run.producer.paced(rate, before + outage + after);
      await sleep(before * 1000);
      const from = run.sampler.now();
      await run.killSandbox();
      log(`  ${label}: sandbox down at t=${from.toFixed(1)} s`);
      await sleep(outage * 1000);
      await run.restartSandbox();
      const to = run.sampler.now();
      log(`  ${label}: sandbox back at t=${to.toFixed(1)} s`);
      await producing;
      await sleep(Math.max(0, (to + after - run.sampler.now()) * 1000) + 1000);
      const reading = recoveryReading(run.sampler.samples, [from - STEADY_SECONDS, from], [to, to + after]);
      results.push({ worker: label, reading, samples: [...run.sampler.samples], outage: [from, to] });
      log(`\n  ${label}: calls per second counted by the sandbox, around the outage`);
      for (const line of rateLines(run.sampler.samples, [from - 5, to + after])) log(`  ${line}`);
    } finally {
      await run.stop();
    }
  }

  log('\nrecovery after the outage (calls/s counted by the sandbox)');
  for (const { worker, reading: r } of results) {
    log(`  ${worker.padEnd(22)} steady ${r.steadyPerSec}/s · peak ${r.peakPerSec}/s at t=${r.peakAt} s, ${r.ratio.toFixed(2)}× steady ${r.ratio <= 2 ? '(within 2×)' : '(OVER 2×)'}`);
  }
  log(`wrote ${writeResult('recovery-latest.json', { commit: gitDescribe(), options: values, results })}`);
  return results[0].reading.ratio <= 2 ? 0 : 1;
}

runMain(main, 'recovery bench');
