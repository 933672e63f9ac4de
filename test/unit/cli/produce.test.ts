import { parseRequestLine } from '../../../src/cli/produce';

const NOW = 1_700_000_000_000;
const valid = {
  captureRequestId: 'capture-42',
  paymentId: '20220919194010890100111740275820195',
  captureAmount: { currency: 'HKD', value: '1000' },
};

const line = (change: Record<string, unknown> = {}) => JSON.stringify({ ...valid, ...change });

describe('parseRequestLine', () => {
  it('parses a valid line into the key and a CaptureRequested', () => {
    expect(parseRequestLine(line({ requestedAt: 1_600_000_000_000, metadata: { orderId: 'o-1' } }), NOW)).toEqual({
      key: 'capture-42',
      value: {
        paymentId: '20220919194010890100111740275820195',
        captureAmount: { currency: 'HKD', value: '1000' },
        requestedAt: 1_600_000_000_000,
        metadata: { orderId: 'o-1' },
      },
    });
  });

  it('defaults requestedAt to now and metadata to empty', () => {
    expect(parseRequestLine(line(), NOW).value).toEqual({
      paymentId: valid.paymentId,
      captureAmount: { currency: 'HKD', value: '1000' },
      requestedAt: NOW,
      metadata: {},
    });
  });

  it('does not put the key or unknown fields into the value', () => {
    const { value } = parseRequestLine(line({ extra: 'x' }), NOW);
    expect(Object.keys(value).sort()).toEqual(['captureAmount', 'metadata', 'paymentId', 'requestedAt']);
  });

  it('rejects a line that is not JSON', () => {
    expect(() => parseRequestLine('{"captureRequestId": ', NOW)).toThrow('not JSON');
  });

  it.each([
    ['captureRequestId', 'missing', { captureRequestId: undefined }],
    ['captureRequestId', 'empty', { captureRequestId: '' }],
    ['captureRequestId', 'too long', { captureRequestId: 'a'.repeat(65) }],
    ['paymentId', 'missing', { paymentId: undefined }],
    ['paymentId', 'too long', { paymentId: 'p'.repeat(65) }],
    ['captureAmount.currency', 'missing amount', { captureAmount: undefined }],
    ['captureAmount.currency', 'lower case', { captureAmount: { currency: 'hkd', value: '1' } }],
    ['captureAmount.currency', 'missing', { captureAmount: { value: '1' } }],
    ['captureAmount.value', 'missing', { captureAmount: { currency: 'HKD' } }],
    ['captureAmount.value', 'a decimal', { captureAmount: { currency: 'HKD', value: '10.5' } }],
    ['captureAmount.value', 'zero', { captureAmount: { currency: 'HKD', value: '0' } }],
    ['captureAmount.value', 'negative', { captureAmount: { currency: 'HKD', value: '-1' } }],
    ['captureAmount.value', '19 digits', { captureAmount: { currency: 'HKD', value: '1'.repeat(19) } }],
    ['metadata', 'a string', { metadata: 'x' }],
    ['metadata', 'with a number value', { metadata: { a: 1 } }],
    ['metadata', 'with a nested object', { metadata: { a: { b: 'c' } } }],
  ])('names %s when it is %s', (field, _case, change) => {
    expect(() => parseRequestLine(line(change), NOW)).toThrow(new RegExp(`^${field.replace('.', '\\.')}: `));
  });

  it('keeps an amount value exactly as written (no float conversion)', () => {
    const { value } = parseRequestLine(line({ captureAmount: { currency: 'JPY', value: '999999999999999999' } }), NOW);
    expect(value.captureAmount.value).toBe('999999999999999999');
  });
});

describe('parseRequestLine never coerces', () => {
  it.each([
    ['{"captureRequestId":{"a":1},"paymentId":"p","captureAmount":{"currency":"HKD","value":"1"}}', 'captureRequestId'],
    ['{"captureRequestId":42,"paymentId":"p","captureAmount":{"currency":"HKD","value":"1"}}', 'captureRequestId'],
    ['{"captureRequestId":"k","paymentId":"p","captureAmount":{"currency":"HKD","value":10}}', 'captureAmount.value'],
    ['{"captureRequestId":"k","paymentId":"p","captureAmount":{"currency":"HKD","value":"1"},"metadata":["a"]}', 'metadata'],
  ])('%s is rejected naming %s', (line, field) => {
    expect(() => parseRequestLine(line)).toThrow(field);
  });
});
