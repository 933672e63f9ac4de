/**
 * A vendor rate limit below the worker's throughput: the sandbox admits --capacity calls in any
 * second and answers the rest REQUEST_TRAFFIC_EXCEED_LIMIT; the worker gets a backlog it could
 * work off several times faster. After --settle seconds, over --seconds, the worker must keep
 * rate-limited answers under 5% of its calls and capture at least 90% of the capacity.
 *
 *   npm run bench:rate-limit -- [--capacity 300] [--latency 100] [--jitter 10] [--settle 10]
 *                               [--seconds 30] [--partitions 12] [--inflight 500] [--verbose]
 *
 * Writes bench/results/rate-limit-latest.json. Exit code 1 when either bound is missed.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { sleep } from '../src/util/sleep';
import { benchArgs, stringOptions, log } from './lib/cli';
import { build } from './lib/build';
import { rateLimitReading, rateLines } from './lib/call-rate';
import { runMain, stopChildrenOnExit } from './lib/proc';
import { writeResult } from './lib/report';
import { gitDescribe } from './lib/setup';
import { VendorRun } from './lib/vendor-run';

async function main(): Promise<number> {
  const values = benchArgs(__filename, {
    ...stringOptions({ capacity: '300', latency: '100', jitter: '10', settle: '10', seconds: '30', partitions: '12', inflight: '500' }),
    verbose: { type: 'boolean', default: false },
  });
  if (!values) return 0;
  const n = (name: keyof typeof values): number => Number(values[name]);
  const [capacity, settle, seconds] = [n('capacity'), n('settle'), n('seconds')];
  stopChildrenOnExit();
  const entry = build();
  log(`$ npm run bench:rate-limit -- ${process.argv.slice(2).join(' ')}`);
  log(`rate limit · sandbox capacity ${capacity} calls/s · latency ${values.latency}±${values.jitter} ms · ${values.partitions} partitions · MAX_IN_FLIGHT=${values.inflight} · ${gitDescribe()}`);
  const run = await VendorRun.start({
    label: 'rate-limit',
    entry,
    worker: entry.worker,
    partitions: n('partitions'),
    latencyMs: n('latency'),
    sandboxFlags: ['--jitter-ms', values.jitter, '--capacity', String(capacity)],
    settings: { MAX_IN_FLIGHT: values.inflight },
    verbose: values.verbose,
  });
  try {
    // More than the capacity can take in the whole run, all at once: the worker is never short of work.
    await run.producer.send(Math.ceil(capacity * (settle + seconds + 5) * 1.2));
    while (!run.sampler.samples.some((s) => s.calls > 0)) await sleep(200);
    const first = run.sampler.now();
    await sleep((settle + seconds) * 1000 + 500);
    const window: [number, number] = [first + settle, first + settle + seconds];
    const r = rateLimitReading(run.sampler.samples, window, capacity);
    for (const line of rateLines(run.sampler.samples)) log(line);
    const ok = r.rateLimitedShare < 0.05 && r.ofCapacity >= 0.9;
    log(
      `\nover ${r.seconds} s after ${settle} s to settle: ${r.callsPerSec.toFixed(1)} calls/s, ${r.capturesPerSec.toFixed(1)} captures/s = ${(100 * r.ofCapacity).toFixed(1)}% of the capacity (≥ 90%), rate-limited answers ${(100 * r.rateLimitedShare).toFixed(2)}% of the calls (< 5%): ${ok ? 'PASS' : 'FAIL'}`,
    );
    log(`wrote ${writeResult('rate-limit-latest.json', { commit: gitDescribe(), options: values, window, reading: r, samples: run.sampler.samples })}`);
    return ok ? 0 : 1;
  } finally {
    await run.stop();
  }
}

runMain(main, 'rate-limit bench');
