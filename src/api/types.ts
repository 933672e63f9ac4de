/** The capture call's request and the worker-facing outcome (see capture-api.md). */

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

export const CAPTURE_PATH = '/ams/api/v1/payments/capture';
