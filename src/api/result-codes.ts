import type { CaptureStatus } from './types';

/**
 * Every result code of the capture API reference with its status, and the vendor's common codes
 * whose status is U (the gateway answers them for every API): a rate-limit answer says nothing
 * about the payment, so it is retried, never reported as a failed capture.
 */
export const RESULT_CODES: ReadonlyMap<string, CaptureStatus> = new Map<string, CaptureStatus>([
  ['SUCCESS', 'S'],
  ['ACCESS_DENIED', 'F'],
  ['AUTH_CANCELLED', 'F'],
  ['AUTH_EXPIRED', 'F'],
  ['AUTH_NOT_FOUND', 'F'],
  ['CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT', 'F'],
  ['CAPTURE_IN_PROCESS', 'U'],
  ['CURRENCY_NOT_SUPPORT', 'F'],
  ['MULTI_CAPTURE_NOT_SUPPORTED', 'F'],
  ['INVALID_CONTRACT', 'F'],
  ['NO_PAY_OPTIONS', 'F'],
  ['ORDER_IS_CANCELED', 'F'],
  ['ORDER_STATUS_INVALID', 'F'],
  ['PARAM_ILLEGAL', 'F'],
  ['PAYMENT_COUNT_EXCEED_LIMIT', 'F'],
  ['PROCESS_FAIL', 'F'],
  ['REPEAT_REQ_INCONSISTENT', 'F'],
  ['RISK_REJECT', 'F'],
  ['USER_AMOUNT_EXCEED_LIMIT', 'F'],
  ['USER_BALANCE_NOT_ENOUGH', 'F'],
  ['USER_NOT_EXIST', 'F'],
  ['USER_STATUS_ABNORMAL', 'F'],
  ['UNKNOWN_EXCEPTION', 'U'],
  ['REQUEST_TRAFFIC_EXCEED_LIMIT', 'U'],
]);

function isStatus(value: unknown): value is CaptureStatus {
  return value === 'S' || value === 'F' || value === 'U';
}

/**
 * Status of an API `result`: a known code decides by the table, an unknown one by its
 * `resultStatus`, and anything unreadable is U. A known code whose `resultStatus` contradicts
 * the table, or is missing, is also U: the response is self-inconsistent or incomplete, and U is
 * the only safe reading (a capture is never reported as done or failed on half an answer).
 */
export function classifyResult(result: unknown): CaptureStatus {
  if (typeof result !== 'object' || result === null) return 'U';
  const { resultCode, resultStatus } = result as { resultCode?: unknown; resultStatus?: unknown };
  const known = typeof resultCode === 'string' ? RESULT_CODES.get(resultCode) : undefined;
  if (known === undefined) return isStatus(resultStatus) ? resultStatus : 'U';
  if (resultStatus !== known) return 'U';
  return known;
}
