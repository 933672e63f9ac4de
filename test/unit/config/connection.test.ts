import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedTokenProvider, unsecuredJws } from '../../../src/app/kafka-client';
import { ConfigError, loadConnections, loadKafkaConnection } from '../../../src/config/connection';
import { authorizationHeader } from '../../../src/events/registry-http';

const dir = mkdtempSync(path.join(tmpdir(), 'connection-test-'));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};
const base = { KAFKA_BROKERS: 'b1:9093,b2:9093', SCHEMA_REGISTRY_URL: 'https://registry.example.com' };

function problems(env: Record<string, string>, options = {}): string[] {
  try {
    loadConnections(env, 'test', options);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

// A self-signed certificate and a second key, made once for the key-pair checks.
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'client.key', '-out', 'client.pem', '-days', '2', '-subj', '/CN=client');
openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key');
const cert = path.join(dir, 'client.pem');
const key = path.join(dir, 'client.key');

describe('Kafka connection settings', () => {
  it('is PLAINTEXT without security settings', () => {
    expect(loadKafkaConnection({ KAFKA_BROKERS: 'b1:9092' }, 'id')).toEqual({ brokers: ['b1:9092'], clientId: 'id', protocol: 'PLAINTEXT', tls: undefined, sasl: undefined });
  });

  it('reads SASL_SSL with SCRAM, the password from a file without its trailing newline', () => {
    const kafka = loadKafkaConnection(
      { ...base, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD_FILE: file('password', 's3cret\n'), KAFKA_TLS_CA_FILE: cert },
      'id',
    );
    expect(kafka.protocol).toBe('SASL_SSL');
    expect(kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
    expect(kafka.tls).toMatchObject({ verifyHostname: true, servername: undefined });
    expect(kafka.tls?.ca).toContain('BEGIN CERTIFICATE');
  });

  it('infers SSL from a client certificate and reads the key pair', () => {
    const kafka = loadKafkaConnection({ ...base, KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: key, KAFKA_TLS_SERVERNAME: 'kafka.internal', KAFKA_TLS_VERIFY_HOSTNAME: 'false' }, 'id');
    expect(kafka.protocol).toBe('SSL');
    expect(kafka.tls).toMatchObject({ servername: 'kafka.internal', verifyHostname: false });
  });

  it('lists every problem at once, naming variables and never values', () => {
    const found = problems({
      KAFKA_BROKERS: 'no-port',
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_PASSWORD: 'TOP-SECRET',
      KAFKA_SASL_PASSWORD_FILE: '/x',
      KAFKA_TLS_KEY_FILE: key,
      SCHEMA_REGISTRY_URL: 'ftp://registry',
      SCHEMA_REGISTRY_USER_INFO: 'no-colon',
    });
    expect(found).toEqual([
      'KAFKA_BROKERS: expected host:port[,host:port...]',
      'KAFKA_SASL_MECHANISM: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL (one of plain, scram-sha-256, scram-sha-512, oauthbearer)',
      'KAFKA_TLS_CERT: required with KAFKA_TLS_KEY_FILE (the certificate of that key)',
      'SCHEMA_REGISTRY_URL: expected an http:// or https:// URL',
      'SCHEMA_REGISTRY_USER_INFO: expected key:secret',
    ]);
    expect(found.join('\n')).not.toContain('TOP-SECRET');
    expect(found.join('\n')).not.toContain('no-colon');
  });

  it.each([
    [{ KAFKA_SASL_MECHANISM: 'kerberos' }, 'KAFKA_SASL_MECHANISM: unknown mechanism "kerberos"; expected one of plain, scram-sha-256, scram-sha-512, oauthbearer'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' }, 'KAFKA_SASL_USERNAME: required for SASL PLAIN'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_PASSWORD: required for SASL PLAIN (or KAFKA_SASL_PASSWORD_FILE)'],
    [
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: '/p' },
      'KAFKA_SASL_PASSWORD: set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
    ],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/missing/p' }, 'KAFKA_SASL_PASSWORD_FILE: cannot read /missing/p (ENOENT)'],
    [
      { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
      'KAFKA_SECURITY_PROTOCOL: PLAINTEXT does not use SASL, but KAFKA_SASL_MECHANISM is set',
    ],
    [{ KAFKA_SECURITY_PROTOCOL: 'TLS' }, 'KAFKA_SECURITY_PROTOCOL: unknown protocol "TLS"; expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL'],
    [
      { KAFKA_SASL_MECHANISM: 'oauthbearer' },
      'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: SASL OAUTHBEARER needs a token source: one of KAFKA_SASL_OAUTHBEARER_TOKEN, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE, KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND, KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB',
    ],
    [
      { KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_TOKEN: 't', KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB: 's' },
      'KAFKA_SASL_OAUTHBEARER_*: set one token source, not KAFKA_SASL_OAUTHBEARER_TOKEN and KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB',
    ],
    [{ KAFKA_TLS_CA_FILE: file('not-pem', 'hello') }, 'KAFKA_TLS_CA_FILE: no PEM certificate (-----BEGIN CERTIFICATE-----) found'],
    [{ KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: path.join(dir, 'other.key') }, 'KAFKA_TLS_KEY_FILE: the private key does not belong to the certificate in KAFKA_TLS_CERT_FILE'],
    [{ KAFKA_TLS_VERIFY_HOSTNAME: 'maybe', KAFKA_SECURITY_PROTOCOL: 'SSL' }, 'KAFKA_TLS_VERIFY_HOSTNAME: expected true or false'],
    [{ SCHEMA_REGISTRY_USERNAME: 'u' }, 'SCHEMA_REGISTRY_PASSWORD: required with SCHEMA_REGISTRY_USERNAME (or SCHEMA_REGISTRY_PASSWORD_FILE)'],
    [
      { SCHEMA_REGISTRY_USER_INFO: 'k:s', SCHEMA_REGISTRY_BEARER_TOKEN: 't' },
      'SCHEMA_REGISTRY_*: set one kind of registry credentials, not SCHEMA_REGISTRY_USER_INFO and SCHEMA_REGISTRY_BEARER_TOKEN',
    ],
    [{ SCHEMA_REGISTRY_URL: 'https://key:secret@registry.example.com' }, 'SCHEMA_REGISTRY_URL: put credentials in SCHEMA_REGISTRY_USER_INFO (or _USERNAME/_PASSWORD), not in the URL'],
    [{ SCHEMA_REGISTRY_URL: 'http://registry', SCHEMA_REGISTRY_CA_FILE: cert }, 'SCHEMA_REGISTRY_CA_FILE: set, but SCHEMA_REGISTRY_URL is not https://'],
  ])('reports %j', (env, problem) => {
    expect(problems({ ...base, ...env })).toEqual([problem]);
  });

  it('reports an expired client certificate', () => {
    const later = new Date(Date.now() + 10 * 86400_000);
    expect(problems({ ...base, KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: key }, { now: later })).toEqual([
      expect.stringMatching(/^KAFKA_TLS_CERT_FILE: the client certificate \(CN=client\) expired on /),
    ]);
  });

  it('checks only the shape when files are not to be read (deployment checks)', () => {
    expect(
      problems({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/mnt/secret/password', KAFKA_TLS_CA_FILE: '/mnt/ca.pem' }, { readFiles: false }),
    ).toEqual([]);
  });
});

describe('registry credentials', () => {
  it('splits USER_INFO at the first colon and builds a basic header', () => {
    const { registry } = loadConnections({ ...base, SCHEMA_REGISTRY_USER_INFO_FILE: file('user-info', 'KEY:se:cret\n') }, 'id');
    expect(registry.auth).toEqual({ kind: 'basic', username: 'KEY', password: 'se:cret' });
    expect(authorizationHeader(registry.auth)).toBe(`Basic ${Buffer.from('KEY:se:cret').toString('base64')}`);
  });

  it('takes a bearer token', () => {
    const { registry } = loadConnections({ ...base, SCHEMA_REGISTRY_BEARER_TOKEN: 'tok' }, 'id');
    expect(authorizationHeader(registry.auth)).toBe('Bearer tok');
  });
});

describe('OAUTHBEARER tokens', () => {
  it('makes an unsigned JWT with sub, iat and exp', () => {
    const [header, payload, signature] = unsecuredJws('svc', 60_000, 1_700_000_000_000).split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'none' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({ sub: 'svc', iat: 1_700_000_000, exp: 1_700_000_060 });
    expect(signature).toBe('');
  });

  it('reuses a token until 80% of its lifetime, then fetches again (a rotated file)', async () => {
    let now = 1_700_000_000_000;
    const tokenFile = file('token', `${unsecuredJws('a', 100_000, now)}\n`);
    const provider = cachedTokenProvider({ kind: 'file', path: tokenFile }, () => now);
    const first = await provider();
    writeFileSync(tokenFile, unsecuredJws('b', 100_000, now));
    now += 79_000;
    expect(await provider()).toEqual(first);
    now += 2_000;
    expect((await provider()).value).not.toBe(first.value);
  });

  it('runs a command for tokens and does not repeat its output when it fails', async () => {
    expect((await cachedTokenProvider({ kind: 'command', command: 'echo tok-123' })()).value).toBe('tok-123');
    await expect(cachedTokenProvider({ kind: 'command', command: 'echo leaked-secret >&2; exit 4' })()).rejects.toThrow(/^KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND failed: exit code 4$/);
  });
});
