/**
 * Liveness that means something: with the broker frozen (SIGSTOP) the consumer can neither fetch
 * nor heartbeat, and /healthz turns 503 within LIVENESS_POLL_MS; once the broker is back it
 * answers 200 again, and every request still gets exactly one terminal outcome.
 */
import { freezeBroker } from '../../../bench/lib/fault-campaign';
import type { RunningWorker } from '../../../src/app/worker-app';
import { exactlyOnce, request, WorkerHarness } from '../../support/worker-harness';
import { waitFor } from '../../support/wait';

const POLL_MS = 5_000;

const status = async (worker: RunningWorker, path: string) => (await fetch(`http://127.0.0.1:${worker.healthPort}${path}`)).status;

async function inFlight(worker: RunningWorker): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`)).text();
  return Number(/^capture_in_flight (\S+)$/m.exec(text)?.[1] ?? 0);
}

describe('liveness: the broker frozen under a running worker', () => {
  const h = new WorkerHarness('liveness');
  let worker: RunningWorker;

  beforeAll(async () => {
    await h.setup({ latencyMs: 300 }, { LIVENESS_POLL_MS: String(POLL_MS) });
    worker = await h.startWorker();
    await waitFor(
      async () => (await status(worker, '/readyz')) === 200,
      30_000,
      () => '(worker ready)',
    );
  });
  afterAll(() => h.teardown());

  it('fails /healthz while the consumer cannot poll, and passes again after the broker is back', async () => {
    expect(await status(worker, '/healthz')).toBe(200);
    const keys = Array.from({ length: 300 }, (_, i) => `live-${i}`);
    await h.produce(keys.map((key) => ({ key, value: request(`pay-${key}`) })));
    await waitFor(
      async () => (await inFlight(worker)) > 0,
      10_000,
      () => '(work in flight)',
    );
    const seen = await freezeBroker(
      15,
      () => undefined,
      () => '',
      async () => {
        const outstanding = await inFlight(worker);
        const frozenAt = Date.now();
        await waitFor(
          async () => (await status(worker, '/healthz')) === 503,
          POLL_MS + 8_000,
          () => '(healthz turns 503)',
        );
        const body = await (await fetch(`http://127.0.0.1:${worker.healthPort}/healthz`)).text();
        return { outstanding, afterMs: Date.now() - frozenAt, body };
      },
    );
    expect(seen.outstanding).toBeGreaterThan(0);
    expect(seen.body).toMatch(/not alive: the consumer has not fetched or heartbeated for \d+ s/);
    expect(seen.afterMs).toBeGreaterThanOrEqual(POLL_MS - 1_000);
    await waitFor(
      async () => (await status(worker, '/healthz')) === 200,
      60_000,
      () => '(healthz back to 200)',
    );
    const watcher = await h.watchOutcomes();
    await watcher.allTerminal(keys, 120_000);
    await watcher.close();
    const report = exactlyOnce(await h.allOutcomes(), keys);
    expect({ missing: report.missing, duplicates: report.duplicates }).toEqual({ missing: [], duplicates: [] });
  }, 240_000);
});
