import { classifyResult, RESULT_CODES } from '../../../src/api/result-codes';

// The result-code table of capture-api.md, restated here as the expectation.
const REFERENCE: Array<[string, 'S' | 'F' | 'U']> = [
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
];

describe('RESULT_CODES', () => {
  it('holds exactly the 23 codes of the reference with their status', () => {
    expect(REFERENCE).toHaveLength(23);
    expect([...RESULT_CODES.entries()].sort()).toEqual([...REFERENCE].sort());
  });
});

describe('classifyResult', () => {
  it.each(REFERENCE)('%s → %s', (resultCode, status) => {
    expect(classifyResult({ resultStatus: status, resultCode, resultMessage: 'x' })).toBe(status);
    expect(classifyResult({ resultCode })).toBe(status);
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
