import { waitFor } from '../../support/wait';
import { exactlyOnce, request, terminal, WorkerHarness } from '../../support/worker-harness';
import { WorkerProcess } from '../../support/worker-process';
import { sleep } from '../../../src/util/sleep';

describe('worker process: SIGKILL mid-stream', () => {
  const h = new WorkerHarness('crash', 3);
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await h.setup({ latencyMs: 40, jitterMs: 40 });
    // No TRANSACTIONAL_ID: the restarted instance has the killed one's, as a restarted replica does.
    env = { ...h.env, MAX_IN_FLIGHT: '64', LOG_LEVEL: 'warn' };
  });
  afterAll(() => h.teardown());

  it('killed with SIGKILL and restarted, every request ends with exactly one terminal outcome', async () => {
    const keys = Array.from({ length: 400 }, (_, i) => `kill-${i}`);
    await h.produce(keys.map((key, i) => ({ key, value: request(i % 10 === 0 ? `unknown-1-${key}` : `pay-${key}`) })));
    const watcher = await h.watchOutcomes();
    const first = new WorkerProcess(env);
    const second = new WorkerProcess(env);
    try {
      first.start();
      await watcher.until((w) => w.outcomes.length >= 100, 60_000);
      await waitFor(() => h.sandbox.stats().inFlight > 0, 10_000);
      // Read in the same tick as the kill: the sandbox runs in this process, so nothing changes in between.
      const inFlightAtKill = h.sandbox.stats().inFlight;
      expect(await first.stop('SIGKILL')).toBe('SIGKILL');
      expect(inFlightAtKill).toBeGreaterThan(0);
      // Every scenario here ends in a capture, so a request the vendor has not settled has no terminal outcome yet.
      const unsettled = keys.filter((k) => h.sandbox.requestStats(k).finalStatus === null);
      expect(unsettled.length).toBeGreaterThan(0);

      second.start();
      await watcher.allTerminal(keys, 120_000);
    } finally {
      await watcher.close();
      await first.stop('SIGKILL');
    }
    expect(await second.stop('SIGTERM')).toBe(0);

    // Both instances are gone: the outcome topics are final.
    const outcomes = await h.allOutcomes();
    expect(exactlyOnce(outcomes, keys)).toEqual({ missing: [], duplicates: [], unexpected: [] });
    expect(terminal(outcomes).filter((o) => o.topic !== 'succeeded')).toEqual([]);
  });
});

describe('worker process: SIGTERM', () => {
  // Topics of its own: the SIGKILL test leaves a backlog that a new group would read first.
  const h = new WorkerHarness('term', 3);
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await h.setup({ latencyMs: 40, jitterMs: 40 });
    env = { ...h.env, MAX_IN_FLIGHT: '64' };
  });
  afterAll(() => h.teardown());

  it('on SIGTERM finishes in-flight captures, commits them and exits 0', async () => {
    h.sandbox.reset();
    const keys = Array.from({ length: 60 }, (_, i) => `term-${i}`);
    const worker = new WorkerProcess({ ...env, LOG_LEVEL: 'debug', GROUP_ID: `${h.topics.group}-term` });
    worker.start();
    await h.produce(keys.map((key) => ({ key, value: request(`pay-${key}`) })));
    // Stop while captures are in flight at the sandbox (the process first starts and joins its group).
    for (let i = 0; i < 1500 && h.sandbox.stats().inFlight === 0; i++) await sleep(20);
    expect(h.sandbox.stats().inFlight).toBeGreaterThan(0);
    expect(await worker.stop('SIGTERM')).toBe(0);
    const called = keys.filter((k) => h.sandbox.requestStats(k).calls > 0);
    expect(called.length).toBeGreaterThan(0);
    // The worker has exited, so the outcome topics read to their end are all it committed: every
    // capture the vendor saw before the stop has exactly one outcome, and nothing else has one.
    const outcomes = await h.allOutcomes();
    expect(exactlyOnce(outcomes, called)).toEqual({ missing: [], duplicates: [], unexpected: [] });
    expect(worker.output).toContain('stopped');
    // Every outcome was logged at debug, and still no key material or signature reached the log.
    expect(worker.output).toContain('"captureRequestId":"term-');
    const keyLines = [env.ANTOM_PRIVATE_KEY!, env.ANTOM_PUBLIC_KEY!].flatMap((pem) => pem.split('\n').filter((line) => line.length > 40));
    expect(keyLines.length).toBeGreaterThan(10);
    expect(keyLines.filter((line) => worker.output.includes(line))).toEqual([]);
    expect(worker.output).not.toMatch(/signature=|BEGIN [A-Z ]*KEY/);
  });
});
