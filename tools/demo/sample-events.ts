import type { CaptureRequested } from '../../src/events/types.generated';

export interface SampleRecord {
  key: string | null;
  /** A request, or raw bytes that are deliberately not a valid event. */
  value: CaptureRequested | Buffer | null;
  scenario: string;
}

const FAIL_CODES = ['RISK_REJECT', 'AUTH_EXPIRED', 'USER_BALANCE_NOT_ENOUGH', 'ORDER_IS_CANCELED', 'PROCESS_FAIL'];

/** A few hundred requests covering every sandbox scenario, invalid fields and undecodable records. */
export function sampleRecords(runId: string, count = 300): SampleRecord[] {
  const now = Date.now();
  const req = (paymentId: string, value = '1000', currency = 'HKD'): CaptureRequested => ({ paymentId, captureAmount: { currency, value }, requestedAt: now, metadata: { demo: runId } });
  const kinds: Array<(i: number) => SampleRecord> = [
    (i) => ({ key: `${runId}-ok-${i}`, value: req(`pay-${runId}-${i}`, String(100 + i)), scenario: 'success' }),
    (i) => ({ key: `${runId}-fail-${i}`, value: req(`fail-${FAIL_CODES[i % FAIL_CODES.length]}-${runId}-${i}`), scenario: 'vendor failure' }),
    (i) => ({ key: `${runId}-unknown-${i}`, value: req(`unknown-2-${runId}-${i}`), scenario: 'unknown twice, then success' }),
    (i) => ({ key: `${runId}-inprocess-${i}`, value: req(`inprocess-1-${runId}-${i}`), scenario: 'in process, then success' }),
    (i) => ({ key: `${runId}-timeout-${i}`, value: req(`timeout-1-${runId}-${i}`), scenario: 'timeout, then success' }),
    (i) => ({ key: `${runId}-http500-${i}`, value: req(`http500-1-${runId}-${i}`), scenario: 'HTTP 500, then success' }),
    (i) => ({ key: `${runId}-badsig-${i}`, value: req(`badsig-1-${runId}-${i}`), scenario: 'bad response signature, then success' }),
    (i) => ({ key: `${runId}-invalid-${i}`, value: req(`pay-${runId}-${i}`, i % 2 ? '12.50' : '100', i % 2 ? 'HKD' : 'hk'), scenario: 'invalid request' }),
    (i) => ({ key: `${runId}-limit-${i}`, value: req(`pay-limit-${runId}-${i}`, '99999999'), scenario: 'over the authorized amount' }),
  ];
  const records: SampleRecord[] = [];
  for (let i = 0; records.length < count - 3; i++) records.push(kinds[i % kinds.length](i));
  records.push({ key: `${runId}-garbage`, value: Buffer.from('definitely not avro'), scenario: 'undecodable' });
  records.push({ key: `${runId}-null`, value: null, scenario: 'undecodable' });
  records.push({ key: null, value: req(`pay-${runId}-nokey`), scenario: 'undecodable' });
  return records;
}
