import { parseCli } from '../../../tools/sandbox/cli';

describe('capture-sandbox CLI', () => {
  it('reads flags before environment before defaults', () => {
    const command = parseCli(['--port', '9000', '--merchant-public-key', 'm.pem', '--jitter-ms', '5'], {
      SANDBOX_PORT: '1',
      SANDBOX_LATENCY_MS: '20',
      SANDBOX_CLIENT_ID: 'C1',
    });
    expect(command).toEqual({
      kind: 'serve',
      privateKeyFile: '.stack/sandbox/sandbox-private.pem',
      publicKeyFile: '.stack/sandbox/sandbox-public.pem',
      merchantPublicKeyFile: 'm.pem',
      options: {
        host: '127.0.0.1',
        port: 9000,
        latencyMs: 20,
        jitterMs: 5,
        latencyPerConcurrentMs: 0,
        capacityPerSec: 0,
        timeoutDelayMs: 3000,
        authorizedAmount: '1000000',
        clientId: 'C1',
      },
    });
  });

  it('reads the capacity per second and the latency per concurrent call', () => {
    const command = parseCli(['--capacity', '300', '--merchant-public-key', 'm.pem'], { SANDBOX_LATENCY_PER_CONCURRENT_MS: '2' });
    expect(command).toMatchObject({ kind: 'serve', options: { capacityPerSec: 300, latencyPerConcurrentMs: 2 } });
    expect(() => parseCli(['--merchant-public-key', 'm.pem'], { SANDBOX_CAPACITY: 'lots' })).toThrow('--capacity (SANDBOX_CAPACITY) must be a non-negative integer');
  });

  it('lists every problem at once', () => {
    expect(() => parseCli(['--port', 'eighty', '--authorized-amount', '0'], { SANDBOX_LATENCY_MS: '-1' })).toThrow(
      [
        'invalid sandbox configuration:',
        '  --port (SANDBOX_PORT) must be a non-negative integer',
        '  --latency-ms (SANDBOX_LATENCY_MS) must be a non-negative integer',
        '  --authorized-amount (SANDBOX_AUTHORIZED_AMOUNT) must be a positive integer in minor units',
        '  --merchant-public-key (SANDBOX_MERCHANT_PUBLIC_KEY_FILE) is required',
      ].join('\n'),
    );
  });

  it('has a keygen command for demo merchant keys', () => {
    expect(parseCli(['keygen', 'a.pem', 'b.pem'], {})).toEqual({ kind: 'keygen', privateKeyFile: 'a.pem', publicKeyFile: 'b.pem' });
    expect(() => parseCli(['keygen', 'a.pem'], {})).toThrow('usage: capture-sandbox keygen PRIVATE_FILE PUBLIC_FILE');
    expect(() => parseCli(['--nope'], {})).toThrow();
  });
});
