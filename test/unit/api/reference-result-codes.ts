/** capture-api.md's result-code table, restated independently of src/ as the tests' expectation. */
export const REFERENCE_RESULT_CODES: Array<[string, 'S' | 'F' | 'U']> = [
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

/** capture-api.md's common result codes (the vendor's gateway answers them for every API) with status U. */
export const REFERENCE_COMMON_UNKNOWN_CODES: Array<[string, 'U']> = [['REQUEST_TRAFFIC_EXCEED_LIMIT', 'U']];

/** Every code the worker classifies by the reference. */
export const REFERENCE_CLASSIFIED_CODES = [...REFERENCE_RESULT_CODES, ...REFERENCE_COMMON_UNKNOWN_CODES];
