import { randomUUID } from 'node:crypto';
import { request, terminal, WorkerHarness } from '../../support/worker-harness';
import { WorkerProcess } from '../../support/worker-process';

describe('worker process: SIGKILL mid-stream', () => {
  const h = new WorkerHarness('crash', 3);
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await h.setup({ latencyMs: 40, jitterMs: 40 });
    env = { ...h.env, TRANSACTIONAL_ID: `crash-${randomUUID()}`, MAX_IN_FLIGHT: '64', LOG_LEVEL: 'warn' };
  });
  afterAll(() => h.teardown());

  it('killed with SIGKILL and restarted, every request ends with exactly one terminal outcome', async () => {
    const keys = Array.from({ length: 400 }, (_, i) => `kill-${i}`);
    await h.produce(keys.map((key, i) => ({ key, value: request(i % 10 === 0 ? `unknown-1-${key}` : `pay-${key}`) })));
    const first = new WorkerProcess(env);
    first.start();
    await h.outcomes((all) => all.length >= 100, 60_000);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    const second = new WorkerProcess(env);
    second.start();
    try {
      const outcomes = await h.outcomes((all) => new Set(terminal(all).map((o) => o.key)).size >= keys.length, 120_000);
      const finals = terminal(outcomes);
      const perKey = new Map<string, number>();
      for (const o of finals) perKey.set(o.key, (perKey.get(o.key) ?? 0) + 1);
      expect(keys.filter((k) => perKey.get(k) !== 1)).toEqual([]);
      expect(finals.every((o) => o.topic === 'succeeded')).toBe(true);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
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
    const worker = new WorkerProcess({ ...env, LOG_LEVEL: 'debug', GROUP_ID: `${h.topics.group}-term`, TRANSACTIONAL_ID: `term-${randomUUID()}` });
    worker.start();
    await h.produce(keys.map((key) => ({ key, value: request(`pay-${key}`) })));
    // Stop while captures are in flight at the sandbox.
    for (let i = 0; i < 300 && h.sandbox.stats().inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.sandbox.stats().inFlight).toBeGreaterThan(0);
    expect(await worker.stop('SIGTERM')).toBe(0);
    const called = keys.filter((k) => h.sandbox.requestStats(k).calls > 0);
    expect(called.length).toBeGreaterThan(0);
    const outcomes = await h.outcomes((all) => called.every((k) => all.some((o) => o.key === k)), 30_000);
    // Every capture the vendor saw before the stop has its committed outcome.
    expect(called.filter((k) => !outcomes.some((o) => o.key === k))).toEqual([]);
    expect(worker.output).toContain('stopped');
    // Every outcome was logged at debug, and still no key material or signature reached the log.
    expect(worker.output).toContain('"captureRequestId":"term-');
    const keyLines = [env.ANTOM_PRIVATE_KEY!, env.ANTOM_PUBLIC_KEY!].flatMap((pem) => pem.split('\n').filter((line) => line.length > 40));
    expect(keyLines.length).toBeGreaterThan(10);
    expect(keyLines.filter((line) => worker.output.includes(line))).toEqual([]);
    expect(worker.output).not.toMatch(/signature=|BEGIN [A-Z ]*KEY/);
  });
});
