import { classifyResult, CONFIGURATION_CODES, CONFIGURATION_HINTS, RESULT_CODES } from '../../../src/api/result-codes';
import { REFERENCE_CLASSIFIED_CODES, REFERENCE_COMMON_UNKNOWN_CODES, REFERENCE_CONFIGURATION_CODES, REFERENCE_RESULT_CODES } from './reference-result-codes';

const REFERENCE = REFERENCE_CLASSIFIED_CODES;

describe('RESULT_CODES', () => {
  it('holds exactly the 23 codes of the capture table and the common codes of the reference, with their status', () => {
    expect(REFERENCE_RESULT_CODES).toHaveLength(23);
    expect(REFERENCE_COMMON_UNKNOWN_CODES.map(([code]) => code)).toEqual(['REQUEST_TRAFFIC_EXCEED_LIMIT']);
    expect([...RESULT_CODES.entries()].sort()).toEqual([...REFERENCE].sort());
  });
});

describe('CONFIGURATION_CODES', () => {
  it('are exactly the codes the reference calls configuration failures, each with a hint naming settings', () => {
    expect([...CONFIGURATION_CODES].sort()).toEqual([...REFERENCE_CONFIGURATION_CODES].sort());
    for (const code of REFERENCE_CONFIGURATION_CODES) expect(CONFIGURATION_HINTS.get(code)).toMatch(/ANTOM_/);
  });

  it.each(REFERENCE_RESULT_CODES.filter(([code, status]) => status === 'F' && code !== 'ACCESS_DENIED'))('%s is about the payment: a failure, not a halt', (code) => {
    expect(CONFIGURATION_CODES.has(code)).toBe(false);
  });
});

describe('classifyResult', () => {
  it.each(REFERENCE)('%s → %s', (resultCode, status) => {
    expect(classifyResult({ resultStatus: status, resultCode, resultMessage: 'x' })).toBe(status);
    // Without its resultStatus the answer is incomplete: unknown, whatever the code says.
    expect(classifyResult({ resultCode })).toBe('U');
  });

  it.each([
    ['U', { resultStatus: 'U', resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT', resultMessage: 'traffic exceeds limit' }],
    ['no status', { resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT' }],
    ['a contradicting F', { resultStatus: 'F', resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT' }],
  ])('a rate-limit answer with %s is U (retried), never a failed capture', (_name, result) => {
    expect(classifyResult(result)).toBe('U');
  });

  it.each([
    ['S', 'S'],
    ['F', 'F'],
    ['U', 'U'],
  ])('an unknown code goes by its resultStatus %s', (resultStatus, expected) => {
    expect(classifyResult({ resultStatus, resultCode: 'SOME_NEW_CODE' })).toBe(expected);
  });

  it.each([
    ['no result', undefined],
    ['null', null],
    ['a string', 'SUCCESS'],
    ['an unknown code without status', { resultCode: 'SOME_NEW_CODE' }],
    ['an unknown code with an unreadable status', { resultCode: 'SOME_NEW_CODE', resultStatus: 'success' }],
    ['a prototype key as code', { resultCode: 'constructor' }],
    ['a known code contradicting its status', { resultCode: 'SUCCESS', resultStatus: 'F' }],
    ['a final code claimed unknown', { resultCode: 'RISK_REJECT', resultStatus: 'S' }],
  ])('%s is U', (_name, result) => {
    expect(classifyResult(result)).toBe('U');
  });
});
