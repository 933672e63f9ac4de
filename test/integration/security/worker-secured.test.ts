import { readFileSync } from 'node:fs';
import type { KafkaProfile, RegistryProfile } from '../../../tools/stack/secure-stack';
import { secureEnv, SecuredSetup, secureStack } from './secured';

/**
 * The worker end to end on the secured broker, once per way in: requests in, one committed
 * outcome per request out, as a read_committed reader over the same connection sees them.
 */
const ways: Array<{ name: string; kafka: KafkaProfile; registry: RegistryProfile; env?: () => Record<string, string> }> = [
  { name: 'SASL_SSL SCRAM-SHA-256 (password file), registry USER_INFO', kafka: 'scram-sha-256', registry: 'admin' },
  { name: 'SASL_SSL SCRAM-SHA-512 (password file), registry username/password', kafka: 'scram-sha-512', registry: 'admin', env: adminUsernamePassword },
  {
    name: 'SASL_SSL PLAIN (password in the variable), registry bearer token',
    kafka: 'plain',
    registry: 'bearer',
    env: () => ({ KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: secureStack().secrets[0] }),
  },
  { name: 'SSL with a client certificate (mutual TLS)', kafka: 'mutual-tls', registry: 'admin' },
  { name: 'SASL_SSL OAUTHBEARER (unsecured JWS)', kafka: 'oauthbearer', registry: 'bearer' },
];

function adminUsernamePassword(): Record<string, string> {
  const [username, password] = readFileSync(secureStack().registry.admin.SCHEMA_REGISTRY_USER_INFO_FILE, 'utf8').trim().split(':');
  return { SCHEMA_REGISTRY_USER_INFO_FILE: '', SCHEMA_REGISTRY_USERNAME: username, SCHEMA_REGISTRY_PASSWORD: password };
}

describe.each(ways)('worker over $name', ({ kafka, registry, env }) => {
  const setup = new SecuredSetup(Object.fromEntries(Object.entries({ ...secureEnv(kafka, registry), ...env?.() }).filter(([, v]) => v !== '')));

  beforeAll(() => setup.setup());
  afterAll(() => setup.teardown());

  it('captures every request and commits exactly one outcome each', async () => {
    const keys = await setup.produce(12);
    const worker = await setup.startWorker();
    try {
      await setup.awaitOutcomes(keys);
    } finally {
      await worker.stop();
    }
    const outcomes = await setup.allOutcomes();
    expect(outcomes.map((o) => o.key).sort()).toEqual([...keys].sort());
    expect(outcomes.filter((o) => o.topic === setup.topics.failed)).toHaveLength(4);
  });
});
