import type { EventTypes } from '../../../src/events/event-codec';
import { request, terminal, WorkerHarness } from '../../support/worker-harness';

describe('worker: every sandbox scenario reaches the right terminal outcome', () => {
  const h = new WorkerHarness('scenarios');

  beforeAll(async () => {
    await h.setup({ timeoutDelayMs: 1500 });
    await h.startWorker();
  });
  afterAll(() => h.teardown());

  const cases: Array<{ key: string; paymentId: string; topic: string; code: string; attempts: number; final?: boolean }> = [
    { key: 'ok-1', paymentId: 'pay-ok-1', topic: 'succeeded', code: 'SUCCESS', attempts: 1 },
    { key: 'risk-1', paymentId: 'fail-RISK_REJECT-1', topic: 'failed', code: 'RISK_REJECT', attempts: 1 },
    { key: 'expired-1', paymentId: 'fail-AUTH_EXPIRED-1', topic: 'failed', code: 'AUTH_EXPIRED', attempts: 1 },
    { key: 'unknown-2', paymentId: 'unknown-2-a', topic: 'succeeded', code: 'SUCCESS', attempts: 3 },
    { key: 'inprocess-1', paymentId: 'inprocess-1-a', topic: 'succeeded', code: 'SUCCESS', attempts: 2 },
    { key: 'timeout-1', paymentId: 'timeout-1-a', topic: 'succeeded', code: 'SUCCESS', attempts: 2 },
    { key: 'http500-2', paymentId: 'http500-2-a', topic: 'succeeded', code: 'SUCCESS', attempts: 3 },
    { key: 'badsig-1', paymentId: 'badsig-1-a', topic: 'succeeded', code: 'SUCCESS', attempts: 2 },
    { key: 'forever', paymentId: 'unknown-99-a', topic: 'unknown', code: 'UNKNOWN_EXCEPTION', attempts: 6, final: true },
    // A success for another amount than sent, and a success without resultStatus: unknown, then retried.
    { key: 'mismatch-1', paymentId: 'mismatch-1-a', topic: 'succeeded', code: 'SUCCESS', attempts: 2 },
    { key: 'nostatus-1', paymentId: 'nostatus-1-a', topic: 'succeeded', code: 'SUCCESS', attempts: 2 },
  ];

  it('publishes exactly one terminal outcome per request, after the right number of attempts', async () => {
    await h.produce(cases.map((c) => ({ key: c.key, value: request(c.paymentId, '500', 'HKD', { case: c.key }) })));
    await h.outcomes((all) => terminal(all).length >= cases.length, 90_000);
    // The verdict reads every outcome topic to its end offsets: a late duplicate would show.
    const outcomes = await h.allOutcomes();
    const finals = terminal(outcomes);
    expect(finals).toHaveLength(cases.length);
    for (const c of cases) {
      const mine = finals.filter((o) => o.key === c.key);
      expect(mine).toHaveLength(1);
      const [outcome] = mine;
      expect({ key: c.key, topic: outcome.topic, code: outcome.event.result.resultCode, attempt: outcome.event.attempt }).toEqual({ key: c.key, topic: c.topic, code: c.code, attempt: c.attempts });
      // Nothing about the money changes on the way through.
      expect(outcome.event.captureAmount).toEqual({ currency: 'HKD', value: '500' });
      expect(outcome.event.paymentId).toBe(c.paymentId);
      expect(outcome.event.metadata).toEqual({ case: c.key });
      expect(h.sandbox.requestStats(c.key).calls).toBe(c.attempts);
      // Each non-final attempt left one CaptureUnknown with its next due time.
      const unknowns = outcomes.filter((o) => o.key === c.key && o.topic === 'unknown' && !(o.event as EventTypes['CaptureUnknown']).final);
      expect(unknowns.map((o) => o.event.attempt)).toEqual(Array.from({ length: c.attempts - 1 }, (_, i) => i + 1));
      for (const u of unknowns) expect((u.event as EventTypes['CaptureUnknown']).nextAttemptAt).toBeGreaterThan(u.event.completedAt);
    }
    const success = finals.find((o) => o.key === 'ok-1')!.event as EventTypes['CaptureSucceeded'];
    expect(success.captureId).toMatch(/.+/);
    expect(success.captureTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const firstUnknown = (key: string) => outcomes.find((o) => o.key === key && o.topic === 'unknown')!.event.result;
    expect(firstUnknown('timeout-1')).toMatchObject({ resultStatus: 'U', resultCode: 'LOCAL_TIMEOUT', local: true });
    expect(firstUnknown('mismatch-1')).toMatchObject({ resultStatus: 'U', resultCode: 'LOCAL_RESPONSE_MISMATCH', local: true });
    expect(firstUnknown('nostatus-1')).toMatchObject({ resultStatus: 'U', resultCode: 'SUCCESS', local: false });
  });
});
