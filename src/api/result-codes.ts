import { LOCAL_CODES, type CaptureResult, type CaptureStatus } from './types';

/**
 * Every result code of the capture API reference with its status, and the vendor's common codes
 * (the gateway answers them for every API). A rate-limit answer says nothing about the payment,
 * so it is retried, never reported as a failed capture; the credential codes are listed with
 * their F status but never reach an outcome (see CONFIGURATION_CODES).
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
  ['INVALID_SIGNATURE', 'F'],
  ['INVALID_CLIENT', 'F'],
  ['INVALID_API', 'F'],
  ['OAUTH_FAIL', 'F'],
  ['METHOD_NOT_SUPPORTED', 'F'],
]);

/**
 * Answers about the merchant's access (key, key version, client id, API product), not about the
 * payment: every capture would get the same answer until the configuration is fixed. They halt
 * the calls instead of failing captures that can still succeed. `PROCESS_FAIL` and the other F
 * codes of the capture table are about the payment and stay failures.
 */
export const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['ACCESS_DENIED', 'INVALID_SIGNATURE', 'INVALID_CLIENT', 'INVALID_API', 'OAUTH_FAIL', 'METHOD_NOT_SUPPORTED']);

const LOCAL_CODE_SET: ReadonlySet<string> = new Set(Object.values(LOCAL_CODES));

/** A metric label for a result code: the reference's codes and ours, anything else the vendor sends is OTHER (bounded cardinality). */
export function codeLabel(code: string): string {
  return RESULT_CODES.has(code) || LOCAL_CODE_SET.has(code) ? code : 'OTHER';
}

/** An answer that halts the calls: the vendor refused the configuration, or the sandbox answered a worker not set up for it. */
export function isConfigurationRefusal(result: CaptureResult): boolean {
  return result.local ? result.resultCode === LOCAL_CODES.sandbox : CONFIGURATION_CODES.has(result.resultCode);
}

/** What to check, by code, in the one error a halt logs. */
export const CONFIGURATION_HINTS: ReadonlyMap<string, string> = new Map([
  ['ACCESS_DENIED', 'the vendor refused this merchant: check ANTOM_CLIENT_ID, the private key (ANTOM_PRIVATE_KEY[_FILE]) and ANTOM_KEY_VERSION against the vendor console'],
  [
    'INVALID_SIGNATURE',
    'the request signature did not verify: the private key (ANTOM_PRIVATE_KEY[_FILE]) or ANTOM_KEY_VERSION does not match the public key registered with the vendor (a key rotation?)',
  ],
  ['INVALID_CLIENT', 'the client id is not known to the vendor: check ANTOM_CLIENT_ID and that ANTOM_BASE_URL is the region of this merchant'],
  ['INVALID_API', 'the capture API is not active for this client: check the merchant contract and ANTOM_BASE_URL'],
  ['OAUTH_FAIL', 'the vendor could not authorise this caller: check ANTOM_CLIENT_ID and the merchant keys'],
  ['METHOD_NOT_SUPPORTED', 'the vendor refused the HTTP method: ANTOM_BASE_URL may point at a proxy or a path that rewrites the call'],
  [LOCAL_CODES.sandbox, "ANTOM_BASE_URL and ANTOM_PUBLIC_KEY are the capture sandbox's (no money moves): set ANTOM_SANDBOX=true if that is intended"],
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
