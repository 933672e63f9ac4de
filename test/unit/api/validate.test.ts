import type { CaptureRequest } from '../../../src/api/types';
import { validateCaptureRequest } from '../../../src/api/validate';

const valid: CaptureRequest = {
  captureRequestId: 'capture_cangxi_lj_20220920_005914_845',
  paymentId: '20220919194010890100111740275820195',
  captureAmount: { currency: 'HKD', value: '10' },
};

function withChange(change: Record<string, unknown>, amount: Record<string, unknown> = {}): CaptureRequest {
  return { ...valid, ...change, captureAmount: { ...valid.captureAmount, ...amount } };
}

describe('validateCaptureRequest', () => {
  it.each([
    ['the reference example', valid],
    ['64-character ids', withChange({ captureRequestId: 'a'.repeat(64), paymentId: 'b'.repeat(64) })],
    ['1-character ids', withChange({ captureRequestId: 'a', paymentId: 'b' })],
    // 64 characters of 4 UTF-8 bytes (2 UTF-16 code units) each: still 64 characters.
    ['64 four-byte characters', withChange({ captureRequestId: '😀'.repeat(64) })],
    ['an 18-digit value', withChange({}, { value: '999999999999999999' })],
    ['value 1', withChange({}, { value: '1' })],
  ])('accepts %s', (_name, req) => {
    expect(validateCaptureRequest(req)).toBeNull();
  });

  it.each([
    ['captureRequestId', withChange({ captureRequestId: '' })],
    ['captureRequestId', withChange({ captureRequestId: 'a'.repeat(65) })],
    ['captureRequestId', withChange({ captureRequestId: '😀'.repeat(65) })],
    ['captureRequestId', withChange({ captureRequestId: 42 })],
    ['captureRequestId', withChange({ captureRequestId: undefined })],
    ['paymentId', withChange({ paymentId: '' })],
    ['paymentId', withChange({ paymentId: 'p'.repeat(65) })],
    ['paymentId', withChange({ paymentId: null })],
    ['captureAmount', { ...valid, captureAmount: null } as unknown as CaptureRequest],
    ['captureAmount.currency', withChange({}, { currency: 'hkd' })],
    ['captureAmount.currency', withChange({}, { currency: 'HK' })],
    ['captureAmount.currency', withChange({}, { currency: 'HKDD' })],
    ['captureAmount.currency', withChange({}, { currency: 'H1D' })],
    ['captureAmount.currency', withChange({}, { currency: 'ÄBC' })],
    ['captureAmount.value', withChange({}, { value: '0' })],
    ['captureAmount.value', withChange({}, { value: '010' })],
    ['captureAmount.value', withChange({}, { value: '-10' })],
    ['captureAmount.value', withChange({}, { value: '+10' })],
    ['captureAmount.value', withChange({}, { value: '10.5' })],
    ['captureAmount.value', withChange({}, { value: '1e3' })],
    ['captureAmount.value', withChange({}, { value: ' 10' })],
    ['captureAmount.value', withChange({}, { value: '' })],
    ['captureAmount.value', withChange({}, { value: '1000000000000000000' })],
    ['captureAmount.value', withChange({}, { value: 10 })],
  ])('rejects a bad %s', (field, req) => {
    const problem = validateCaptureRequest(req);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(field);
  });
});
