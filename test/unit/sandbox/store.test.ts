import type { CaptureRequest } from '../../../src/api/types';
import { SandboxStore } from '../../../tools/sandbox/store';

const req = (captureRequestId: string, value: string, currency = 'USD', paymentId = 'pay-1'): CaptureRequest => ({
  captureRequestId,
  paymentId,
  captureAmount: { currency, value },
});

function capture(store: SandboxStore, r: CaptureRequest): { resultCode: string; captureId?: string } {
  expect(store.recordCall(r)).not.toBeNull();
  const body = JSON.parse(store.capture(r).toString()) as { result: { resultCode: string }; captureId?: string };
  return { resultCode: body.result.resultCode, ...(body.captureId !== undefined && { captureId: body.captureId }) };
}

describe('SandboxStore', () => {
  it('sums partial captures against the authorized amount', () => {
    const store = new SandboxStore(1000n);
    expect(capture(store, req('a', '600')).resultCode).toBe('SUCCESS');
    expect(capture(store, req('b', '401')).resultCode).toBe('CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT');
    expect(capture(store, req('c', '400')).resultCode).toBe('SUCCESS');
    expect(capture(store, req('d', '1')).resultCode).toBe('CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT');
    expect(capture(store, req('e', '1', 'USD', 'pay-2')).resultCode).toBe('SUCCESS');
    expect(store.stats().captures).toBe(3);
  });

  it('fixes the payment currency at its first capture', () => {
    const store = new SandboxStore(1000n);
    expect(capture(store, req('a', '1', 'EUR')).resultCode).toBe('SUCCESS');
    expect(capture(store, req('b', '1', 'USD')).resultCode).toBe('CURRENCY_NOT_SUPPORT');
  });

  it('replays the stored final response byte for byte and flags changed fields', () => {
    const store = new SandboxStore(1000n);
    const first = req('a', '10');
    store.recordCall(first);
    const body = store.capture(first);
    expect(store.recordCall(first)).toBe(2);
    expect(store.capture(first).equals(body)).toBe(true);
    expect(store.recordCall(req('a', '11'))).toBeNull();
    expect(store.recordCall(req('a', '10', 'EUR'))).toBeNull();
    expect(store.recordCall(req('a', '10', 'USD', 'pay-9'))).toBeNull();
    expect(store.requestStats('a')).toMatchObject({ calls: 5, finalStatus: 'S' });
    expect(store.stats().captures).toBe(1);
  });

  it('keeps a final failure final, even when a capture would now succeed', () => {
    const store = new SandboxStore(1000n);
    const r = req('a', '10');
    store.recordCall(r);
    store.fail(r, 'RISK_REJECT', 'no');
    expect(capture(store, r).resultCode).toBe('RISK_REJECT');
    expect(store.requestStats('a')).toEqual({ captureRequestId: 'a', calls: 2, finalStatus: 'F' });
  });

  it('counts calls, captures and rate-limited answers per wall-clock second', () => {
    let now = 5_000_400;
    const store = new SandboxStore(1000n, () => now);
    store.enter();
    capture(store, req('a', '10'));
    store.enter();
    store.rateLimit();
    now = 5_001_000;
    store.enter();
    expect(store.seconds()).toEqual([
      { second: 5000, calls: 2, captures: 1, rateLimited: 1 },
      { second: 5001, calls: 1, captures: 0, rateLimited: 0 },
    ]);
    store.reset();
    expect(store.seconds()).toEqual([]);
  });

  it('tracks peak concurrency, and reset keeps only calls still in flight', () => {
    const store = new SandboxStore(1000n);
    store.enter();
    store.enter();
    store.enter();
    store.leave();
    store.rejectSignature();
    store.rateLimit();
    expect(store.stats()).toEqual({ calls: 3, captures: 0, rejectedSignatures: 1, refused: 0, rateLimited: 1, inFlight: 2, maxConcurrent: 3 });
    capture(store, req('a', '10'));
    store.reset();
    expect(store.stats()).toEqual({ calls: 0, captures: 0, rejectedSignatures: 0, refused: 0, rateLimited: 0, inFlight: 2, maxConcurrent: 2 });
    expect(store.requestStats('a')).toEqual({ captureRequestId: 'a', calls: 0, finalStatus: null });
    expect(capture(store, req('b', '1000')).resultCode).toBe('SUCCESS');
  });
});
