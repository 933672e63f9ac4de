import { readFileSync } from 'node:fs';
import { CliRun, runCli, secureEnv, SecuredSetup, secureStack } from './secured';

/**
 * init, produce, the worker and tail as processes on the secured stack, every one at LOG_LEVEL=debug
 * (KafkaJS's own debug lines included): the work gets done and no secret shows up in any output.
 */
describe('CLIs on the secured stack, logging at debug', () => {
  const runs: CliRun[] = [];

  it('init, produce, run and tail work over SASL_SSL, mutual TLS and OAUTHBEARER', async () => {
    const setup = await new SecuredSetup(secureEnv('scram-sha-512')).setup();
    try {
      const { topics } = setup;
      // The setup's worker settings, with another way into Kafka and the registry each time.
      const common = Object.fromEntries(Object.entries(setup.env).filter(([name]) => !/^(KAFKA_|SCHEMA_REGISTRY_)/.test(name)));
      const env = (kafka: Parameters<typeof secureEnv>[0], registry: Parameters<typeof secureEnv>[1] = 'admin') => ({ ...common, ...secureEnv(kafka, registry), LOG_LEVEL: 'debug' });
      const init = await runCli(['init'], env('scram-sha-256'));
      runs.push(init);
      expect(init.stdout).toContain(`registered ${topics.requested}-value`);
      expect(init.code).toBe(0);

      const keys = ['a', 'b', 'c'].map((n) => `${topics.group}-${n}`);
      const lines = keys.map((key) => JSON.stringify({ captureRequestId: key, paymentId: `pay-${key}`, captureAmount: { currency: 'USD', value: '100' } }));
      const produce = await runCli(['produce'], env('mutual-tls', 'bearer'), { input: `${lines.join('\n')}\n` });
      runs.push(produce);
      expect(produce.stderr).toContain(`produced 3 CaptureRequested to ${topics.requested}`);
      expect(produce.code).toBe(0);

      // The worker stops (SIGTERM) once the three outcomes are committed.
      const worker = await runCli(['run'], env('scram-sha-512'), { stopWhen: setup.awaitOutcomes(keys), timeoutMs: 90_000 });
      runs.push(worker);
      expect(worker.code).toBe(0);

      const tail = await runCli(['tail', '--json'], env('oauthbearer'));
      runs.push(tail);
      expect(tail.code).toBe(0);
      const tailed = tail.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key);
      expect(tailed.sort()).toEqual(keys);
    } finally {
      await setup.teardown();
    }
  });

  it('logged at debug, KafkaJS SASL exchanges included, and never a secret', () => {
    const output = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(output).toMatch(/SaslAuthenticate/);
    expect(output).toMatch(/"level":"debug"/);
    const stack = secureStack();
    const basic = readFileSync(stack.registry.admin.SCHEMA_REGISTRY_USER_INFO_FILE, 'utf8').trim();
    for (const secret of [...stack.secrets, Buffer.from(basic).toString('base64')]) expect(output).not.toContain(secret);
  });
});
