/**
 * The call rate the vendor sees, counted by the sandbox once a second (short forms of
 * bench/rate-limit.ts and bench/recovery.ts): a worker with a backlog settles just under the
 * vendor's rate limit, and after an outage it ramps up instead of releasing every waiting call.
 */
import { createPublicKey } from 'node:crypto';
import { CallRateSampler, rateLimitReading, rateLines, recoveryReading } from '../../../bench/lib/call-rate';
import { generateKeyPair } from '../../../src/api/keys';
import { startSandbox, type SandboxOptions } from '../../../tools/sandbox/server';
import { sleep } from '../../../src/util/sleep';
import { request, WorkerHarness } from '../../support/worker-harness';

const requests = (prefix: string, from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${from + i}`, value: request(`pay-${prefix}-${from + i}`) }));

describe('worker: the call rate the vendor sees', () => {
  it('settles near the vendor rate limit: under 5% rate-limited answers, captures at least 90% of the capacity', async () => {
    const capacity = 150;
    const h = new WorkerHarness('ratelimit', 3);
    // 100 ms calls: about 15 concurrent carry the capacity, so one more or less is a step of 7%.
    await h.setup({ capacityPerSec: capacity, latencyMs: 100, jitterMs: 10 });
    let limit: (() => Promise<number | undefined>) | undefined;
    const sampler = new CallRateSampler(
      async () => h.sandbox.seconds(),
      async () => limit?.(),
    );
    try {
      const { worker } = await h.startWorker();
      limit = async () => (await worker.metrics.apiConcurrencyLimit.get()).values[0]?.value;
      // A backlog for longer than the measurement: unlimited, the worker would call several times faster.
      await h.produce(requests('rl', 0, 3600));
      while (!sampler.samples.some((s) => s.calls > 0)) await sleep(200);
      const first = sampler.now();
      await sleep(20_000);
      // Slow start overshoots the limit once; the reading starts after it.
      const r = rateLimitReading(sampler.samples, [first + 4, sampler.now()], capacity);
      console.log([`capacity ${capacity}/s: ${JSON.stringify(r)}`, ...rateLines(sampler.samples)].join('\n'));
      expect(r.seconds).toBeGreaterThanOrEqual(14);
      expect(r.rateLimitedShare).toBeLessThan(0.05);
      expect(r.ofCapacity).toBeGreaterThanOrEqual(0.9);
    } finally {
      sampler.stop();
      await h.teardown();
    }
  }, 60_000);

  it('after an outage the calls never exceed twice the steady rate in any second', async () => {
    const h = new WorkerHarness('recovery', 3);
    // A vendor whose latency grows with load, restarted on the same port with the same key.
    const vendor: Partial<SandboxOptions> = { latencyMs: 20, jitterMs: 10, latencyPerConcurrentMs: 3, privateKey: (await generateKeyPair()).privateKey };
    await h.setup(vendor);
    const port = Number(new URL(h.sandbox.url).port);
    let up = true;
    let limit: (() => Promise<number | undefined>) | undefined;
    const sampler = new CallRateSampler(
      async () => (up ? h.sandbox.seconds() : null),
      async () => limit?.(),
    );
    let producing = true as boolean; // cleared after the run, while production loops
    let produced = 0;
    try {
      const { worker } = await h.startWorker();
      limit = async () => (await worker.metrics.apiConcurrencyLimit.get()).values[0]?.value;
      // 100 requests/s, catching up after a slow tick so the steady rate stays steady on a busy machine.
      const started = Date.now();
      const production = (async () => {
        while (producing) {
          const due = Math.floor((Date.now() - started) / 10) - produced;
          if (due > 0) await h.produce(requests('rc', produced, due));
          produced += Math.max(0, due);
          await sleep(50);
        }
      })();
      await sleep(14_000);
      const outageFrom = sampler.now();
      up = false;
      await h.sandbox.close();
      await sleep(10_000);
      h.sandbox = await startSandbox({ ...vendor, port, merchantPublicKey: createPublicKey(h.env.ANTOM_PRIVATE_KEY!) });
      up = true;
      const outageTo = sampler.now();
      await sleep(20_000);
      producing = false;
      await production;
      const r = recoveryReading(sampler.samples, [outageFrom - 6, outageFrom], [outageTo, sampler.now()]);
      const after = sampler.samples.filter((s) => s.t > outageTo);
      console.log([`produced ${produced}; ${JSON.stringify(r)}`, ...rateLines(sampler.samples)].join('\n'));
      expect(r.steadyPerSec).toBeGreaterThan(50);
      expect(r.ratio).toBeLessThanOrEqual(2);
      // Not quiet for lack of work: it drained the backlog of the outage above the steady rate.
      expect(Math.max(...after.map((s) => s.captures))).toBeGreaterThan(r.steadyPerSec);
    } finally {
      producing = false;
      sampler.stop();
      await h.teardown();
    }
  }, 90_000);
});
