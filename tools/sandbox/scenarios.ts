import type { CaptureRequest } from '../../src/api/types';
import { resultBody, SANDBOX_MARK, successBody } from './responses';
import type { SandboxStore } from './store';

/** Outcomes scripted by the paymentId prefix (README, "Sandbox scenarios"). */

type CountedKind = 'unknown' | 'inprocess' | 'timeout' | 'http500' | 'badsig' | 'mismatch' | 'nostatus';

export type Scenario = { kind: 'normal' } | { kind: 'fail'; code: string } | { kind: CountedKind; n: number };

const COUNTED = /^(unknown|inprocess|timeout|http500|badsig|mismatch|nostatus)-(\d+)-/;
const FAIL = /^fail-([A-Z0-9_]+)-/;

export function parseScenario(paymentId: string): Scenario {
  const fail = FAIL.exec(paymentId);
  if (fail) return { kind: 'fail', code: fail[1] };
  const counted = COUNTED.exec(paymentId);
  if (counted) return { kind: counted[1] as CountedKind, n: Number(counted[2]) };
  return { kind: 'normal' };
}

/** What to answer, and how: a late answer, or one whose signature is deliberately wrong. */
export interface Plan {
  httpStatus: number;
  body: Buffer;
  delayMs: number;
  badSignature: boolean;
}

function plan(body: Buffer, extra: Partial<Plan> = {}): Plan {
  return { httpStatus: 200, body, delayMs: 0, badSignature: false, ...extra };
}

/**
 * Answers a valid, verified capture call. Late and badly signed answers still capture, as a real
 * lost response would have: the retry then gets the stored result, never a second capture.
 */
export function planCapture(store: SandboxStore, req: CaptureRequest, timeoutDelayMs: number): Plan {
  const calls = store.recordCall(req);
  if (calls === null) {
    return plan(resultBody('F', 'REPEAT_REQ_INCONSISTENT', 'captureRequestId was used with other fields'));
  }
  const scenario = parseScenario(req.paymentId);
  const scripted = scenario.kind !== 'normal' && scenario.kind !== 'fail' && calls <= scenario.n;
  switch (scenario.kind) {
    case 'fail':
      return plan(store.fail(req, scenario.code, `scripted ${scenario.code}`));
    case 'unknown':
      if (scripted) return plan(resultBody('U', 'UNKNOWN_EXCEPTION', `scripted unknown, call ${calls}`));
      break;
    case 'inprocess':
      if (scripted) return plan(resultBody('U', 'CAPTURE_IN_PROCESS', `scripted in process, call ${calls}`));
      break;
    case 'http500':
      if (scripted) {
        return plan(resultBody('U', 'UNKNOWN_EXCEPTION', `scripted HTTP 500, call ${calls}`), { httpStatus: 500 });
      }
      break;
    case 'timeout':
      return plan(store.capture(req), { delayMs: scripted ? timeoutDelayMs : 0 });
    case 'badsig':
      return plan(store.capture(req), { badSignature: scripted });
    case 'mismatch':
      // A success naming another amount than requested, and nothing captured: a vendor anomaly.
      if (scripted)
        return plan(
          successBody(
            { ...req, captureAmount: { ...req.captureAmount, value: `${req.captureAmount.value}0` } },
            { captureId: 'anomaly', captureTime: new Date().toISOString(), acquirerReferenceNo: 'anomaly' },
          ),
        );
      break;
    case 'nostatus':
      if (scripted) return plan(Buffer.from(JSON.stringify({ result: { resultCode: 'SUCCESS', resultMessage: `scripted answer without resultStatus, call ${calls}` }, ...SANDBOX_MARK })));
      break;
    case 'normal':
      break;
  }
  return plan(store.capture(req));
}
