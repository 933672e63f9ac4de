/** The vendor's capture API reference: its result-code table, restated independently of src/ as the tests' expectation. */
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

/** The reference's common result codes (the vendor's gateway answers them for every API) with status U. */
export const REFERENCE_COMMON_UNKNOWN_CODES: Array<[string, 'U']> = [['REQUEST_TRAFFIC_EXCEED_LIMIT', 'U']];

/** The reference's common result codes with status F: all about the merchant's configuration, none about the payment. */
export const REFERENCE_COMMON_CONFIGURATION_CODES: Array<[string, 'F']> = [
  ['INVALID_SIGNATURE', 'F'],
  ['INVALID_CLIENT', 'F'],
  ['INVALID_API', 'F'],
  ['OAUTH_FAIL', 'F'],
  ['METHOD_NOT_SUPPORTED', 'F'],
];

/** The reference: ACCESS_DENIED "belongs to the same family" as the common configuration codes. */
export const REFERENCE_CONFIGURATION_CODES = ['ACCESS_DENIED', ...REFERENCE_COMMON_CONFIGURATION_CODES.map(([code]) => code)];

/** Every code the worker classifies by the reference. */
export const REFERENCE_CLASSIFIED_CODES = [...REFERENCE_RESULT_CODES, ...REFERENCE_COMMON_UNKNOWN_CODES, ...REFERENCE_COMMON_CONFIGURATION_CODES];
