// Generated from schemas/*.avsc by `npm run schemas:types`. Do not edit.

/** A request to capture (part of) an authorized payment. The record key is the captureRequestId. */
export interface CaptureRequested {
  /** Alipay-assigned id of the authorized payment (1-64 chars). */
  paymentId: string;
  /** Amount to capture, in the transaction currency. */
  captureAmount: Amount;
  /** When the caller asked for the capture (epoch milliseconds). */
  requestedAt: number;
  /** Caller's opaque key/value pairs, copied unchanged from the request to every outcome. */
  metadata: Record<string, string>;
}

/** A money amount exactly as the capture API takes it. */
export interface Amount {
  /** ISO 4217 alpha-3 currency code, e.g. HKD. */
  currency: string;
  /** Integer string in the currency's minor unit ("10" HKD is 0.10 HKD); never a float. */
  value: string;
}

/** The capture went through (resultStatus S). Keyed by captureRequestId. */
export interface CaptureSucceeded {
  /** The record key of the request: the idempotency key sent to the API. */
  captureRequestId: string;
  /** The authorized payment, copied from the request. */
  paymentId: string;
  /** The amount requested, copied unchanged from the request. */
  captureAmount: Amount;
  /** When the request was made, copied from the request (epoch milliseconds). */
  requestedAt: number;
  /** Caller's opaque key/value pairs, copied unchanged from the request to every outcome. */
  metadata: Record<string, string>;
  /** The capture API's result, or a local one for faults decided without a vendor answer. */
  result: Result;
  /** Which call of the capture API this outcome reports, starting at 1. */
  attempt: number;
  /** When the worker first called the API for this request (epoch milliseconds). */
  firstAttemptAt: number;
  /** When this attempt's result was known (epoch milliseconds). */
  completedAt: number;
  /** Alipay-assigned id of the capture. */
  captureId: string;
  /** When the capture happened, ISO 8601 as the API returned it. */
  captureTime: string;
  /** Id assigned by a non-Alipay acquirer, when there is one. */
  acquirerReferenceNo: null | string;
}

export interface Result {
  /** S (success), F (failed, final) or U (unknown, not final). */
  resultStatus: string;
  /** Vendor result code (e.g. SUCCESS, RISK_REJECT), or LOCAL_* for a transport fault decided locally. */
  resultCode: string;
  /** Human-readable detail; for PARAM_ILLEGAL it names the offending field. */
  resultMessage: string;
  /** True when the worker decided this result without a vendor response (validation or transport fault). */
  local: boolean;
}

/** The capture definitely did not happen (resultStatus F): final. Keyed by captureRequestId. */
export interface CaptureFailed {
  /** The record key of the request: the idempotency key sent to the API. */
  captureRequestId: string;
  /** The authorized payment, copied from the request. */
  paymentId: string;
  /** The amount requested, copied unchanged from the request. */
  captureAmount: Amount;
  /** When the request was made, copied from the request (epoch milliseconds). */
  requestedAt: number;
  /** Caller's opaque key/value pairs, copied unchanged from the request to every outcome. */
  metadata: Record<string, string>;
  /** The capture API's result, or a local one for faults decided without a vendor answer. */
  result: Result;
  /** Which call of the capture API this outcome reports, starting at 1. */
  attempt: number;
  /** When the worker first called the API for this request (epoch milliseconds). */
  firstAttemptAt: number;
  /** When this attempt's result was known (epoch milliseconds). */
  completedAt: number;
}

/** The capture may or may not have happened (resultStatus U). Not a failure: it is retried until known or until attempts/deadline run out. */
export interface CaptureUnknown {
  /** The record key of the request: the idempotency key sent to the API. */
  captureRequestId: string;
  /** The authorized payment, copied from the request. */
  paymentId: string;
  /** The amount requested, copied unchanged from the request. */
  captureAmount: Amount;
  /** When the request was made, copied from the request (epoch milliseconds). */
  requestedAt: number;
  /** Caller's opaque key/value pairs, copied unchanged from the request to every outcome. */
  metadata: Record<string, string>;
  /** The capture API's result, or a local one for faults decided without a vendor answer. */
  result: Result;
  /** Which call of the capture API this outcome reports, starting at 1. */
  attempt: number;
  /** When the worker first called the API for this request (epoch milliseconds). */
  firstAttemptAt: number;
  /** When this attempt's result was known (epoch milliseconds). */
  completedAt: number;
  /** When the next attempt is due (epoch milliseconds); null when final. */
  nextAttemptAt: null | number;
  /** True when no further attempt will be made: attempts or deadline ran out and the outcome needs a person. */
  final: boolean;
}
