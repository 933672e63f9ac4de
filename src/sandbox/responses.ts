import type { CaptureRequest, CaptureStatus } from '../api/types';

/** Response bodies as the API sends them, serialised once so replays are byte-identical. */

export function resultBody(resultStatus: CaptureStatus, resultCode: string, resultMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ result: { resultStatus, resultCode, resultMessage } }));
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
    }),
  );
}
