/** The capture call's request and the worker-facing outcome (Antom's capture API: POST /ams/api/v1/payments/capture). */

export interface Amount {
  currency: string;
  value: string;
}

export interface CaptureRequest {
  captureRequestId: string;
  paymentId: string;
  captureAmount: Amount;
}

export type CaptureStatus = 'S' | 'F' | 'U';

export interface CaptureResult {
  status: CaptureStatus;
  /** The vendor's result code, or a LOCAL_* code for a fault decided here. */
  resultCode: string;
  resultMessage: string;
  /** True when decided locally (validation, transport fault), not by the vendor. */
  local: boolean;
  captureId?: string;
  captureTime?: string;
  acquirerReferenceNo?: string;
  httpStatus?: number;
}

/**
 * Filled in by a call: request sent to response read, without signing and verification. That is
 * the vendor's latency; signing waits for the thread pool, which grows with this host's load.
 */
export interface CallTiming {
  roundTripMs?: number;
}

/** Local result codes: the outcome is unknown because of a fault on the way, not a vendor answer. */
export const LOCAL_CODES = {
  timeout: 'LOCAL_TIMEOUT',
  connection: 'LOCAL_CONNECTION_ERROR',
  http5xx: 'LOCAL_HTTP_5XX',
  badBody: 'LOCAL_BAD_BODY',
  badSignature: 'LOCAL_BAD_SIGNATURE',
  aborted: 'LOCAL_ABORTED',
  /** A success that names another request, payment or amount than the one sent: a vendor anomaly. */
  mismatch: 'LOCAL_RESPONSE_MISMATCH',
  /** The capture sandbox answered (it moves no money) while ANTOM_SANDBOX is not set: a configuration error. */
  sandbox: 'LOCAL_SANDBOX_ANSWER',
} as const;

export const CAPTURE_PATH = '/ams/api/v1/payments/capture';
