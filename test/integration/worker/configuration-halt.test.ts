/**
 * The vendor refuses the merchant configuration (a bad key rotation: INVALID_SIGNATURE, or
 * ACCESS_DENIED): no capture is reported as failed, the calls halt and the instance reports not
 * ready, one probe per API_HALT_PROBE_MS checks the configuration, and the waiting captures go
 * through by themselves once the vendor accepts it again.
 */
import type { RunningWorker } from '../../../src/app/worker-app';
import { exactlyOnce, request, WorkerHarness } from '../../support/worker-harness';
import { waitFor } from '../../support/wait';
import { sleep } from '../../../src/util/sleep';

const PROBE_MS = 1000;

async function metric(worker: RunningWorker, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

const readyStatus = async (worker: RunningWorker) => (await fetch(`http://127.0.0.1:${worker.healthPort}/readyz`)).status;

describe.each(['INVALID_SIGNATURE', 'ACCESS_DENIED'])('worker: the vendor answers %s to every call', (code) => {
  const h = new WorkerHarness(`halt-${code.toLowerCase().replace(/_/g, '-')}`);
  let worker: RunningWorker;

  beforeAll(async () => {
    await h.setup({}, { API_HALT_PROBE_MS: String(PROBE_MS) });
    worker = await h.startWorker();
    await waitFor(
      async () => (await readyStatus(worker)) === 200,
      30_000,
      () => '(worker ready)',
    );
  });
  afterAll(() => h.teardown());

  it('fails no capture, halts the calls and is not ready; captures resume by themselves once the configuration is accepted', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `${code}-${i}`);
    h.sandbox.refuse(code);
    await h.produce(keys.map((key) => ({ key, value: request(`pay-${key}`, '700', 'HKD') })));
    await waitFor(
      () => h.sandbox.stats().refused > 0,
      30_000,
      () => '(first refusal)',
    );
    await waitFor(
      async () => (await readyStatus(worker)) === 503,
      10_000,
      () => '(readyz turns 503)',
    );
    expect(await metric(worker, 'capture_api_halted')).toBe(1);
    expect(await metric(worker, 'capture_circuit_state{state="halted"}')).toBe(1);
    expect(await metric(worker, 'capture_circuit_state{state="closed"}')).toBe(0);

    // Halted: over five probe intervals only the probes reach the vendor, one per interval (the
    // calls already in flight when the halt began answer first).
    await sleep(300);
    const refusedAtHalt = h.sandbox.stats().refused;
    await sleep(5 * PROBE_MS + 300);
    const probes = h.sandbox.stats().refused - refusedAtHalt;
    expect(probes).toBeGreaterThanOrEqual(3);
    expect(probes).toBeLessThanOrEqual(6);
    expect(h.sandbox.stats().captures).toBe(0);
    // Nothing was published for any key: no CaptureFailed, and no CaptureUnknown either.
    expect(await h.allOutcomes()).toEqual([]);
    expect(await readyStatus(worker)).toBe(503);

    h.sandbox.refuse(null);
    const watcher = await h.watchOutcomes();
    await watcher.allTerminal(keys, 30_000);
    await watcher.close();
    const outcomes = await h.allOutcomes();
    const report = exactlyOnce(outcomes, keys);
    expect({ missing: report.missing, duplicates: report.duplicates }).toEqual({ missing: [], duplicates: [] });
    expect(outcomes.map((o) => o.topic)).toEqual(keys.map(() => 'succeeded'));
    for (const o of outcomes) expect(o.event.captureAmount).toEqual({ currency: 'HKD', value: '700' });
    expect(h.sandbox.stats().captures).toBe(keys.length);
    await waitFor(
      async () => (await readyStatus(worker)) === 200,
      10_000,
      () => '(readyz back to 200)',
    );
    expect(await metric(worker, 'capture_api_halted')).toBe(0);
    expect(await metric(worker, `capture_api_configuration_refusals_total{code="${code}"}`)).toBeGreaterThanOrEqual(probes);
  }, 90_000);
});
