import type { CaptureRequest } from '../../../src/api/types';
import { parseScenario, planCapture, type Plan } from '../../../tools/sandbox/scenarios';
import { SandboxStore } from '../../../tools/sandbox/store';

describe('parseScenario', () => {
  it.each([
    ['fail-RISK_REJECT-42', { kind: 'fail', code: 'RISK_REJECT' }],
    ['fail-NEW_CODE_2-x', { kind: 'fail', code: 'NEW_CODE_2' }],
    ['unknown-2-abc', { kind: 'unknown', n: 2 }],
    ['inprocess-1-abc', { kind: 'inprocess', n: 1 }],
    ['timeout-3-abc', { kind: 'timeout', n: 3 }],
    ['http500-10-abc', { kind: 'http500', n: 10 }],
    ['badsig-1-abc', { kind: 'badsig', n: 1 }],
    ['20220919194010890100111740275820195', { kind: 'normal' }],
    ['fail-lowercase-1', { kind: 'normal' }],
    ['unknown-x-1', { kind: 'normal' }],
    ['unknown-2', { kind: 'normal' }],
  ])('%s', (paymentId, scenario) => {
    expect(parseScenario(paymentId)).toEqual(scenario);
  });
});

describe('planCapture', () => {
  const req = (paymentId: string, captureRequestId = `r-${paymentId}`): CaptureRequest => ({
    captureRequestId,
    paymentId,
    captureAmount: { currency: 'USD', value: '10' },
  });
  const code = (p: Plan): string => (JSON.parse(p.body.toString()) as { result: { resultCode: string } }).result.resultCode;
  const calls = (store: SandboxStore, r: CaptureRequest, n: number): Plan[] => Array.from({ length: n }, () => planCapture(store, r, 5000));

  it('answers fail-<CODE> with F and that code, finally', () => {
    const store = new SandboxStore(1000n);
    const plans = calls(store, req('fail-USER_NOT_EXIST-1'), 2);
    expect(plans.map(code)).toEqual(['USER_NOT_EXIST', 'USER_NOT_EXIST']);
    expect((JSON.parse(plans[0].body.toString()) as { result: { resultStatus: string } }).result.resultStatus).toBe('F');
    expect(store.stats().captures).toBe(0);
  });

  it.each([
    ['unknown-2-x', 'UNKNOWN_EXCEPTION'],
    ['inprocess-2-x', 'CAPTURE_IN_PROCESS'],
  ])('answers %s with U for the first n calls of the id, then S', (paymentId, unknownCode) => {
    const store = new SandboxStore(1000n);
    expect(calls(store, req(paymentId), 4).map(code)).toEqual([unknownCode, unknownCode, 'SUCCESS', 'SUCCESS']);
    // Counted per captureRequestId: another id on the same payment starts again.
    expect(code(planCapture(store, req(paymentId, 'other'), 5000))).toBe(unknownCode);
  });

  it('answers http500-<n> with HTTP 500 first', () => {
    const store = new SandboxStore(1000n);
    expect(calls(store, req('http500-1-x'), 2).map((p) => [p.httpStatus, code(p)])).toEqual([
      [500, 'UNKNOWN_EXCEPTION'],
      [200, 'SUCCESS'],
    ]);
  });

  it('captures once behind timeout-<n> and badsig-<n>, answering late or badly signed first', () => {
    const store = new SandboxStore(1000n);
    const late = calls(store, req('timeout-2-x'), 3);
    expect(late.map((p) => p.delayMs)).toEqual([5000, 5000, 0]);
    const forged = calls(store, req('badsig-1-x'), 2);
    expect(forged.map((p) => p.badSignature)).toEqual([true, false]);
    for (const p of [...late, ...forged]) expect(code(p)).toBe('SUCCESS');
    expect(late[2].body.equals(late[0].body)).toBe(true);
    expect(store.stats().captures).toBe(2);
  });

  it('answers a changed body under a known id with REPEAT_REQ_INCONSISTENT', () => {
    const store = new SandboxStore(1000n);
    planCapture(store, req('pay'), 5000);
    const changed = { ...req('pay'), captureAmount: { currency: 'USD', value: '11' } };
    expect(code(planCapture(store, changed, 5000))).toBe('REPEAT_REQ_INCONSISTENT');
  });
});
