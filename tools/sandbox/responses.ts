import type { CaptureRequest, CaptureStatus } from '../../src/api/types';

/**
 * Response bodies as the API sends them, serialised once so replays are byte-identical. Each one
 * says, inside what the signature covers, that it comes from the sandbox: a worker not told it
 * talks to the sandbox (ANTOM_SANDBOX) refuses these answers instead of reporting captures no
 * money was moved for.
 */
export const SANDBOX_MARK = { sandbox: 'capture-sandbox: no money moves' } as const;

export function resultBody(resultStatus: CaptureStatus, resultCode: string, resultMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ result: { resultStatus, resultCode, resultMessage }, ...SANDBOX_MARK }));
}

export interface Captured {
  captureId: string;
  captureTime: string;
  acquirerReferenceNo: string;
}

export function successBody(req: CaptureRequest, c: Captured): Buffer {
  return Buffer.from(
    JSON.stringify({
      result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success.' },
      captureRequestId: req.captureRequestId,
      captureId: c.captureId,
      paymentId: req.paymentId,
      captureAmount: { currency: req.captureAmount.currency, value: req.captureAmount.value },
      captureTime: c.captureTime,
      acquirerReferenceNo: c.acquirerReferenceNo,
      ...SANDBOX_MARK,
    }),
  );
}
