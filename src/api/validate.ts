import type { CaptureRequest } from './types';

export interface FieldProblem {
  field: string;
  message: string;
}

const CURRENCY = /^[A-Z]{3}$/;
// Minor units: digits only, no sign or leading zero, and small enough to stay exact in any ledger.
const POSITIVE_INTEGER = /^[1-9][0-9]{0,17}$/;

function checkId(field: string, value: unknown): FieldProblem | null {
  if (typeof value !== 'string') return { field, message: `${field} must be a string` };
  // Characters are code points: a 4-byte character counts once, as the vendor counts it.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- code points, not graphemes, are what is counted
  const characters = [...value].length;
  if (characters < 1 || characters > 64) return { field, message: `${field} must be 1-64 characters` };
  return null;
}

/** The first problem that makes the request illegal for the API, or null when it may be sent. */
export function validateCaptureRequest(req: CaptureRequest): FieldProblem | null {
  const idProblem = checkId('captureRequestId', req.captureRequestId) ?? checkId('paymentId', req.paymentId);
  if (idProblem) return idProblem;
  const amount: unknown = req.captureAmount;
  if (typeof amount !== 'object' || amount === null) {
    return { field: 'captureAmount', message: 'captureAmount must be an object {currency, value}' };
  }
  const { currency, value } = amount as { currency?: unknown; value?: unknown };
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    return { field: 'captureAmount.currency', message: 'captureAmount.currency must be an ISO 4217 alpha-3 code' };
  }
  if (typeof value !== 'string' || !POSITIVE_INTEGER.test(value)) {
    return {
      field: 'captureAmount.value',
      message: 'captureAmount.value must be a positive integer string in minor units (at most 18 digits)',
    };
  }
  return null;
}
