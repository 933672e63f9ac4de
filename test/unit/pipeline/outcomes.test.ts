import type { CaptureResult } from '../../../src/api/types';
import type { TopicNames } from '../../../src/config/config';
import type { CaptureRequested } from '../../../src/events/types.generated';
import { type AttemptContext, buildOutcome } from '../../../src/pipeline/outcomes';

const topics: TopicNames = {
  requested: 't.requested',
  succeeded: 't.succeeded',
  failed: 't.failed',
  unknown: 't.unknown',
  retry: 't.retry',
  dlq: 't.dlq',
};

const request: CaptureRequested = {
  paymentId: '20220919194010890100111740275820195',
  captureAmount: { currency: 'HKD', value: '999999999999999999' },
  requestedAt: 1_700_000_000_000,
  metadata: { orderId: 'o-1', 'weird key': 'ünïcode ✓', empty: '' },
};

const context: AttemptContext = {
  captureRequestId: 'capture-42',
  request,
  attempt: 2,
  firstAttemptAt: 1_700_000_001_000,
  completedAt: 1_700_000_005_000,
};

const success: CaptureResult = {
  status: 'S',
  resultCode: 'SUCCESS',
  resultMessage: 'success.',
  local: false,
  captureId: '202209191940108901001117402758',
  captureTime: '2022-09-19T19:40:10-07:00',
  acquirerReferenceNo: 'ARN-1',
  httpStatus: 200,
};
const failure: CaptureResult = { status: 'F', resultCode: 'RISK_REJECT', resultMessage: 'risk rejected', local: false, httpStatus: 200 };
const unknown: CaptureResult = { status: 'U', resultCode: 'LOCAL_TIMEOUT', resultMessage: 'timed out', local: true };

/** Fields every outcome copies from the request and the context. */
const common = {
  captureRequestId: 'capture-42',
  paymentId: '20220919194010890100111740275820195',
  captureAmount: { currency: 'HKD', value: '999999999999999999' },
  requestedAt: 1_700_000_000_000,
  metadata: { orderId: 'o-1', 'weird key': 'ünïcode ✓', empty: '' },
  attempt: 2,
  firstAttemptAt: 1_700_000_001_000,
  completedAt: 1_700_000_005_000,
};

describe('buildOutcome', () => {
  it('maps S to CaptureSucceeded on the succeeded topic with the capture details', () => {
    const outcome = buildOutcome(topics, context, success, undefined);
    expect(outcome).toEqual({
      topic: 't.succeeded',
      event: {
        name: 'CaptureSucceeded',
        value: {
          ...common,
          result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success.', local: false },
          captureId: '202209191940108901001117402758',
          captureTime: '2022-09-19T19:40:10-07:00',
          acquirerReferenceNo: 'ARN-1',
        },
      },
    });
    expect(outcome.retryAt).toBeUndefined();
  });

  it('uses null for a missing acquirerReferenceNo', () => {
    const { acquirerReferenceNo: _unused, ...withoutArn } = success;
    const outcome = buildOutcome(topics, context, withoutArn, undefined);
    expect(outcome.event.name).toBe('CaptureSucceeded');
    expect((outcome.event.value as { acquirerReferenceNo: string | null }).acquirerReferenceNo).toBeNull();
  });

  it('maps F to CaptureFailed on the failed topic, never scheduling a retry', () => {
    const outcome = buildOutcome(topics, context, failure, 1_700_000_099_000);
    expect(outcome).toEqual({
      topic: 't.failed',
      event: { name: 'CaptureFailed', value: { ...common, result: { resultStatus: 'F', resultCode: 'RISK_REJECT', resultMessage: 'risk rejected', local: false } } },
    });
    expect(outcome.retryAt).toBeUndefined();
  });

  it('maps U with a retry time to a non-final CaptureUnknown and schedules the retry', () => {
    const outcome = buildOutcome(topics, context, unknown, 1_700_000_009_000);
    expect(outcome).toEqual({
      topic: 't.unknown',
      retryAt: 1_700_000_009_000,
      event: {
        name: 'CaptureUnknown',
        value: {
          ...common,
          result: { resultStatus: 'U', resultCode: 'LOCAL_TIMEOUT', resultMessage: 'timed out', local: true },
          nextAttemptAt: 1_700_000_009_000,
          final: false,
        },
      },
    });
  });

  it('maps U without a retry time to a final CaptureUnknown (never to failed)', () => {
    const outcome = buildOutcome(topics, context, unknown, undefined);
    expect(outcome.topic).toBe('t.unknown');
    expect(outcome.event.name).toBe('CaptureUnknown');
    expect(outcome.event.value).toMatchObject({ nextAttemptAt: null, final: true });
    expect(outcome.retryAt).toBeUndefined();
  });

  it.each([
    ['S', success],
    ['F', failure],
    ['U', unknown],
  ])('copies amount, currency, payment id, key and metadata unchanged for %s', (_status, result) => {
    const outcome = buildOutcome(topics, context, result, 1);
    const value = outcome.event.value;
    expect(value.captureAmount).toEqual({ currency: 'HKD', value: '999999999999999999' });
    expect(typeof value.captureAmount.value).toBe('string');
    expect(value.paymentId).toBe(request.paymentId);
    expect(value.captureRequestId).toBe('capture-42');
    expect(value.metadata).toEqual({ orderId: 'o-1', 'weird key': 'ünïcode ✓', empty: '' });
    expect(value.requestedAt).toBe(request.requestedAt);
    // and the request itself is not modified
    expect(request).toEqual({
      paymentId: '20220919194010890100111740275820195',
      captureAmount: { currency: 'HKD', value: '999999999999999999' },
      requestedAt: 1_700_000_000_000,
      metadata: { orderId: 'o-1', 'weird key': 'ünïcode ✓', empty: '' },
    });
  });

  it('does not leak the HTTP status into the result', () => {
    const outcome = buildOutcome(topics, context, success, undefined);
    expect(Object.keys(outcome.event.value.result).sort()).toEqual(['local', 'resultCode', 'resultMessage', 'resultStatus']);
  });
});
