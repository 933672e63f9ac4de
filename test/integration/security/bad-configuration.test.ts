import { readFileSync } from 'node:fs';
import { generateKeyPair } from '../../../src/api/keys';
import { CliRun, runCli, secureEnv, secureStack } from './secured';

/**
 * `capture-worker run` with one thing wrong at a time against the secured stack: each ends with a
 * message naming what to change and a non-zero exit, well within the bound, never a retry loop.
 */
// Far below what KafkaJS retrying would take (minutes, or for ever for a consumer), with room for a loaded machine.
const BOUND_MS = 30_000;

let base: Record<string, string>;

beforeAll(async () => {
  const merchant = await generateKeyPair();
  base = {
    ANTOM_BASE_URL: 'http://127.0.0.1:9',
    ANTOM_SANDBOX: 'true',
    ANTOM_CLIENT_ID: 'TEST_CLIENT',
    ANTOM_PRIVATE_KEY: merchant.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ANTOM_PUBLIC_KEY: merchant.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    HTTP_PORT: '0',
    GROUP_ID: 'bad-configuration',
  };
});

const certs = () => secureStack().certificates;
const cases: Array<{ what: string; env: () => Record<string, string>; exit: number; says: RegExp }> = [
  {
    what: 'wrong SCRAM password',
    env: () => ({ ...secureEnv('scram-sha-512'), KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: 'not-the-password' }),
    exit: 1,
    says: /Kafka \(127\.0\.0\.1:\d+, SASL_SSL SCRAM-SHA-512\): authentication as "capture-worker" failed: .*invalid credentials.*\. Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD\(_FILE\)/,
  },
  {
    what: 'wrong PLAIN password',
    env: () => ({ ...secureEnv('plain'), KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: 'not-the-password' }),
    exit: 1,
    says: /SASL_SSL PLAIN\): authentication as "capture-worker" failed: .*Invalid username or password/,
  },
  {
    what: 'unknown mechanism',
    env: () => ({ ...secureEnv('scram-sha-512'), KAFKA_SASL_MECHANISM: 'gssapi' }),
    exit: 78,
    says: /KAFKA_SASL_MECHANISM: unknown mechanism "gssapi"; expected one of plain, scram-sha-256, scram-sha-512, oauthbearer/,
  },
  {
    what: 'untrusted CA (no KAFKA_TLS_CA_FILE: the public CAs)',
    env: () => ({ ...secureEnv('scram-sha-256'), KAFKA_TLS_CA_FILE: '' }),
    exit: 1,
    says: /the broker's TLS certificate is not trusted \(.+\)\. Set KAFKA_TLS_CA_FILE to the CA bundle that signed the broker's certificate/,
  },
  {
    what: 'a CA that did not sign the broker certificate',
    env: () => ({ ...secureEnv('scram-sha-256'), KAFKA_TLS_CA_FILE: certs().untrustedClientCert.replace('untrusted-client.pem', 'untrusted-ca.pem') }),
    exit: 1,
    says: /not trusted .*KAFKA_TLS_CA_FILE .*\(the one set does not\)/,
  },
  {
    what: 'wrong server name',
    env: () => ({ ...secureEnv('scram-sha-256'), KAFKA_TLS_SERVERNAME: 'kafka.example.com' }),
    exit: 1,
    says: /the broker's TLS certificate does not match the server name \(.*kafka\.example\.com.*\)\. Connect with a name the certificate lists, or correct KAFKA_TLS_SERVERNAME/,
  },
  {
    what: 'expired client certificate',
    env: () => ({ ...secureEnv('mutual-tls'), KAFKA_TLS_CERT_FILE: certs().expiredClientCert }),
    exit: 78,
    says: /KAFKA_TLS_CERT_FILE: the client certificate \(CN=capture-worker\) expired on 2020-01-02T00:00:00\.000Z/,
  },
  {
    what: 'client key that does not match the certificate',
    env: () => ({ ...secureEnv('mutual-tls'), KAFKA_TLS_KEY_FILE: certs().untrustedClientKey }),
    exit: 78,
    says: /KAFKA_TLS_KEY_FILE: the private key does not belong to the certificate in KAFKA_TLS_CERT_FILE/,
  },
  {
    what: 'client certificate from a CA the broker does not trust',
    env: () => ({ ...secureEnv('mutual-tls'), KAFKA_TLS_CERT_FILE: certs().untrustedClientCert, KAFKA_TLS_KEY_FILE: certs().untrustedClientKey }),
    exit: 1,
    says: /Kafka \(127\.0\.0\.1:\d+, SSL\): the broker rejected the client certificate \(TLS alert: [a-z ]+\)\. Use a certificate signed by a CA the broker trusts/,
  },
  {
    what: 'no client certificate on the mutual-TLS listener',
    env: () => ({ ...secureEnv('mutual-tls'), KAFKA_TLS_CERT_FILE: '', KAFKA_TLS_KEY_FILE: '' }),
    exit: 1,
    says: /the broker requires a client certificate and none is set \(TLS alert: [a-z ]+\)\. The listener wants mutual TLS: set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/,
  },
  {
    what: 'OAUTHBEARER token the broker refuses',
    env: () => ({ ...secureEnv('oauthbearer'), KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB: '', KAFKA_SASL_OAUTHBEARER_TOKEN: 'not-a-jwt' }),
    exit: 1,
    says: /SASL_SSL OAUTHBEARER\): authentication failed: the broker refused the token \(invalid_token\)\. Check the token source \(KAFKA_SASL_OAUTHBEARER_\*\)/,
  },
  {
    what: 'registry 401: wrong password',
    env: () => ({ ...secureEnv('scram-sha-256'), SCHEMA_REGISTRY_USER_INFO_FILE: '', SCHEMA_REGISTRY_USER_INFO: 'registry-admin:not-the-password' }),
    exit: 1,
    says: /schema registry https:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 answered 401 Unauthorized to GET \/subjects: it rejected the credentials of "registry-admin"/,
  },
  {
    what: 'registry 401: no credentials',
    env: () => ({ ...secureEnv('scram-sha-256'), SCHEMA_REGISTRY_USER_INFO_FILE: '' }),
    exit: 1,
    says: /answered 401 Unauthorized to GET \/subjects: it needs credentials and no credentials are set \(SCHEMA_REGISTRY_USER_INFO, SCHEMA_REGISTRY_USERNAME\/PASSWORD or SCHEMA_REGISTRY_BEARER_TOKEN\)/,
  },
  {
    what: 'registry 403: read-only credentials',
    env: () => secureEnv('scram-sha-256', 'reader'),
    exit: 1,
    says: /answered 403 Forbidden to POST \/subjects\/[^ ]+\/versions: the credentials of "registry-reader" .*are accepted but not allowed to do this/,
  },
  {
    what: 'registry CA not set',
    env: () => ({ ...secureEnv('scram-sha-256'), SCHEMA_REGISTRY_CA_FILE: '' }),
    exit: 1,
    says: /schema registry https:.*: its TLS certificate is not trusted \(.+\)\. Set SCHEMA_REGISTRY_CA_FILE/,
  },
  {
    what: 'several problems at once',
    env: () => ({
      ...secureEnv('scram-sha-256'),
      KAFKA_SASL_USERNAME: '',
      KAFKA_TLS_KEY_FILE: certs().clientKey,
      KAFKA_SASL_PASSWORD_FILE: '/nonexistent/password',
      SCHEMA_REGISTRY_BEARER_TOKEN: 'x',
    }),
    exit: 78,
    says: /invalid configuration \(4 problems\):\n(.|\n)*KAFKA_TLS_CERT: required with KAFKA_TLS_KEY_FILE(.|\n)*KAFKA_SASL_PASSWORD_FILE: cannot read \/nonexistent\/password \(ENOENT\)(.|\n)*KAFKA_SASL_USERNAME: required for SASL SCRAM-SHA-256(.|\n)*SCHEMA_REGISTRY_\*: set one kind of registry credentials, not SCHEMA_REGISTRY_USER_INFO and SCHEMA_REGISTRY_BEARER_TOKEN/,
  },
];

describe('bad configuration', () => {
  let runs: Map<string, CliRun>;

  // Three at a time: more would have them wait for the CPU (each compiles the CLI) rather than for the broker.
  beforeAll(async () => {
    runs = new Map();
    const queue = [...cases];
    const next = async (): Promise<void> => {
      const c = queue.shift();
      if (!c) return;
      runs.set(c.what, await runCli(['run'], dropEmpty({ ...base, ...c.env() }), { timeoutMs: BOUND_MS * 2 }));
      return next();
    };
    await Promise.all([next(), next(), next()]);
  });

  it.each(cases)('$what: exits $exit with a message that says what to change', ({ what, exit, says }) => {
    const run = runs.get(what)!;
    expect(run.stderr).toMatch(says);
    expect(run.code).toBe(exit);
    expect(run.ms).toBeLessThan(BOUND_MS);
  });

  it('never repeats a secret it was given', () => {
    const secrets = [...secureStack().secrets, 'not-the-password', readFileSync(certs().clientKey, 'utf8').split('\n')[1]];
    for (const run of runs.values()) for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
  });
});

function dropEmpty(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}
