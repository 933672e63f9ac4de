/**
 * 1 → 3 → 1 worker processes while requests keep coming, one of the three killed with SIGKILL in
 * the middle: every rebalance moves partitions (and the retry chains held for them) between
 * instances, and the killed one's partitions wait out its session. Checked on every outcome topic
 * read to its high watermarks after the last instance stopped.
 */
import { CountingProxy } from '../../support/counting-proxy';
import { describeGroup } from '../../support/kafka';
import { sleep } from '../../../src/util/sleep';
import { waitFor } from '../../support/wait';
import type { CaptureRequested } from '../../../src/events/types.generated';
import { exactlyOnce, OutcomeWatcher, repeatedAttempts, request, terminal, WorkerHarness } from '../../support/worker-harness';
import { WorkerProcess } from '../../support/worker-process';

/**
 * 10,000 requests (12,000 calls with the retries) at 500 a second finish in about a minute on a
 * 2-core machine that also runs the broker, the sandbox and three workers.
 */
const REQUESTS = 10_000;
const CHUNK = 200;
const CHUNK_EVERY_MS = 400;
/** One request in five is a scripted unknown: unknown on the first call, captured on the second (scenarios.ts). */
const isUnknown = (i: number) => i % 5 === 0;

/** Produces requests in chunks at a steady rate, never past what allow() has let through. */
class Feeder {
  produced = 0;
  private limit = 0;
  private stopped = false;

  constructor(
    private readonly h: WorkerHarness,
    private readonly requests: Array<{ key: string; value: CaptureRequested }>,
  ) {}

  allow(upTo: number): void {
    this.limit = Math.min(upTo, this.requests.length);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    while (this.produced < this.requests.length && !this.stopped) {
      if (this.produced >= this.limit) {
        await sleep(20);
        continue;
      }
      const batch = this.requests.slice(this.produced, Math.min(this.produced + CHUNK, this.limit));
      await this.h.produce(batch);
      this.produced += batch.length;
      await sleep(CHUNK_EVERY_MS);
    }
  }

  reached(count: number, timeoutMs = 60_000): Promise<void> {
    return waitFor(
      () => this.produced >= count,
      timeoutMs,
      () => `(produced ${this.produced})`,
    );
  }
}

describe('worker processes: a rebalance storm with a kill -9', () => {
  const h = new WorkerHarness('storm', 6);

  beforeAll(() => h.setup({ latencyMs: 5, jitterMs: 15 }, { MAX_IN_FLIGHT: '200', LOG_LEVEL: 'warn' }));
  afterAll(() => h.teardown());

  it('1 → 3 → 1 instances with one killed mid-stream: every request has exactly one terminal outcome', async () => {
    const keys = Array.from({ length: REQUESTS }, (_, i) => `storm-${i}`);
    const requests = keys.map((key, i) => ({ key, value: request(isUnknown(i) ? `unknown-1-${key}` : `pay-${key}`) }));
    const proxies = await Promise.all([1, 2, 3].map(() => CountingProxy.start(h.sandbox.url)));
    // No TRANSACTIONAL_ID: all three share the group's default prefix, as replicas of one deployment do.
    const [first, second, third] = proxies.map((proxy) => new WorkerProcess({ ...h.env, ANTOM_BASE_URL: proxy.url })) as [WorkerProcess, WorkerProcess, WorkerProcess];
    const [, toSecond, toThird] = proxies as [CountingProxy, CountingProxy, CountingProxy];
    const feeder = new Feeder(h, requests);
    let watcher: OutcomeWatcher | undefined;
    let feeding: Promise<void> | undefined;
    const started = Date.now();
    // Every wait ends before the test's timeout, so a failure is reported and cleaned up, not cut off.
    const left = (ms: number) => Math.max(1_000, Math.min(ms, started + 150_000 - Date.now()));
    const log = (line: string) => console.log(`[storm ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);
    const group = () => describeGroup(h.kafka, h.topics.group);
    const members = (n: number) => async () => {
      const g = await group();
      return g.state === 'Stable' && g.members === n;
    };
    try {
      watcher = await h.watchOutcomes();
      first.start();
      await waitFor(members(1), left(60_000), () => `(first instance joined; output:\n${first.output})`, 200);
      feeder.allow(REQUESTS * 0.2);
      feeding = feeder.run();
      await feeder.reached(REQUESTS * 0.2, left(60_000));

      second.start();
      third.start();
      feeder.allow(REQUESTS * 0.5);
      await waitFor(members(3), left(60_000), () => `(three instances in the group; output:\n${second.output}\n${third.output})`, 200);
      await feeder.reached(REQUESTS * 0.5, left(60_000));
      log(`3 instances, ${feeder.produced} requests produced, ${watcher.terminalKeys.size} terminal`);

      // Killed once it has done a share of the work and while it has calls out. The proxy runs in
      // this process: its count cannot change between this check and the kill.
      await waitFor(
        () => toSecond.answeredAt.length >= 100 && toSecond.inFlight > 0,
        left(30_000),
        () => `(instance to kill: ${toSecond.answeredAt.length} answered, ${toSecond.inFlight} in flight)`,
        5,
      );
      const inFlightAtKill = toSecond.inFlight;
      expect(await second.stop('SIGKILL')).toBe('SIGKILL');
      expect(inFlightAtKill).toBeGreaterThan(0);
      const terminalAtKill = watcher.terminalKeys.size;
      log(`killed the second instance with ${inFlightAtKill} calls in flight (${toSecond.calls} calls in all)`);
      feeder.allow(REQUESTS * 0.75);
      await feeder.reached(REQUESTS * 0.75, left(60_000));

      expect(await third.stop('SIGTERM', 15_000)).toBe(0);
      log(`third instance stopped (${toThird.calls} calls), ${feeder.produced} requests produced, ${watcher.terminalKeys.size} terminal`);
      feeder.allow(REQUESTS);
      await feeding;
      await watcher.allTerminal(keys, left(150_000));
      log(`every request terminal; ${watcher.outcomes.length} outcomes seen`);
      // The kill landed with work outstanding, and both added instances took a share.
      expect(terminalAtKill).toBeLessThan(REQUESTS);
      expect(toSecond.calls).toBeGreaterThan(0);
      expect(toThird.calls).toBeGreaterThan(0);
      expect(await first.stop('SIGTERM', 15_000)).toBe(0);
    } catch (error) {
      console.log(`first instance:\n${first.output.slice(-4000)}\nsecond:\n${second.output.slice(-4000)}\nthird:\n${third.output.slice(-4000)}`);
      throw error;
    } finally {
      feeder.stop();
      await feeding?.catch(() => undefined);
      for (const worker of [first, second, third]) await worker.stop('SIGKILL');
      await watcher?.close();
      for (const proxy of proxies) await proxy.close();
    }

    // Every instance has exited: the outcome topics are final.
    const outcomes = await h.allOutcomes();
    const report = exactlyOnce(outcomes, keys);
    const repeated = repeatedAttempts(outcomes);
    log(`${outcomes.length} outcomes read to the end: ${report.missing.length} lost, ${report.duplicates.length} keys duplicated, ${repeated.length} attempts published twice`);
    expect({ lost: report.missing.length, duplicated: report.duplicates.length, unexpected: report.unexpected.length, repeated: repeated.length }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      repeated: 0,
    });
    // Both scenarios end in a capture, and the vendor captured each request once.
    expect(terminal(outcomes).filter((o) => o.topic !== 'succeeded')).toEqual([]);
    expect(h.sandbox.stats().captures).toBe(REQUESTS);
  }, 175_000);
});
