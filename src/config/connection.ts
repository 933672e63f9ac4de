import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfigError, EnvSettings, type ReadOptions } from './env-settings';

/**
 * How every process (worker, init, produce, tail, tests, bench) reaches Kafka and the schema
 * registry: TLS, SASL and registry credentials from the environment. Each setting NAME may instead
 * be given as NAME_FILE (a Kubernetes secret mount); values are never echoed in problems.
 */

export { ConfigError, EnvSettings, type ReadOptions } from './env-settings';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export interface TlsSettings {
  /** PEM bundle; absent: Node's built-in public CAs. */
  ca?: string;
  cert?: string;
  key?: string;
  keyPassword?: string;
  servername?: string;
  verifyHostname: boolean;
}

/** Where OAUTHBEARER tokens come from; tokens are fetched again before they expire. */
export type OAuthTokenSource =
  | { kind: 'file'; path: string }
  | { kind: 'command'; command: string }
  | { kind: 'static'; token: string }
  /** Kafka's OAuthBearerUnsecuredJws validator (development and tests): an unsigned JWT. */
  | { kind: 'unsecured'; subject: string; lifetimeMs: number };

export type SaslSettings = { mechanism: Exclude<SaslMechanism, 'oauthbearer'>; username: string; password: string } | { mechanism: 'oauthbearer'; token: OAuthTokenSource };

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  protocol: SecurityProtocol;
  tls?: TlsSettings;
  sasl?: SaslSettings;
}

export type RegistryAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface RegistryConnection {
  url: string;
  auth?: RegistryAuth;
  ca?: string;
}

const BROKER = /^[^:\s,]+:\d+$/;

/** Broker list, client id and the security settings of KAFKA_*; problems go to `s`. */
export function readKafkaConnection(s: EnvSettings, clientIdFallback: string): KafkaConnection {
  const brokerText = s.raw('KAFKA_BROKERS');
  const brokers = (brokerText ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (!brokerText) s.problem('KAFKA_BROKERS: required');
  else if (brokers.length === 0 || !brokers.every((b) => BROKER.test(b))) s.problem('KAFKA_BROKERS: expected host:port[,host:port...]');

  const mechanismText = s.raw('KAFKA_SASL_MECHANISM')?.trim().toLowerCase();
  const mechanism = mechanismText as SaslMechanism | undefined;
  if (mechanismText && !SASL_MECHANISMS.includes(mechanism!)) {
    s.problem(`KAFKA_SASL_MECHANISM: unknown mechanism "${mechanismText}"; expected one of ${SASL_MECHANISMS.join(', ')}`);
  }
  const tlsVariables = ['KAFKA_TLS_CA', 'KAFKA_TLS_CERT', 'KAFKA_TLS_KEY'].filter((name) => s.has(name));
  const protocol = readProtocol(s, Boolean(mechanismText), tlsVariables.length > 0);

  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  if (!usesTls && tlsVariables.length > 0) s.problem(`KAFKA_SECURITY_PROTOCOL: ${protocol} does not use TLS, but ${tlsVariables.join(', ')} ${tlsVariables.length === 1 ? 'is' : 'are'} set`);
  if (!usesSasl && mechanismText) s.problem(`KAFKA_SECURITY_PROTOCOL: ${protocol} does not use SASL, but KAFKA_SASL_MECHANISM is set`);
  if (usesSasl && !mechanismText) s.problem(`KAFKA_SASL_MECHANISM: required with KAFKA_SECURITY_PROTOCOL=${protocol} (one of ${SASL_MECHANISMS.join(', ')})`);

  return {
    brokers,
    clientId: s.raw('KAFKA_CLIENT_ID') ?? clientIdFallback,
    protocol,
    tls: usesTls ? readKafkaTls(s) : undefined,
    sasl: usesSasl && mechanism && SASL_MECHANISMS.includes(mechanism) ? readSasl(s, mechanism) : undefined,
  };
}

function readProtocol(s: EnvSettings, hasMechanism: boolean, hasTlsFiles: boolean): SecurityProtocol {
  const text = s.raw('KAFKA_SECURITY_PROTOCOL')?.trim().toUpperCase();
  if (!text) return hasMechanism ? 'SASL_SSL' : hasTlsFiles ? 'SSL' : 'PLAINTEXT';
  if (SECURITY_PROTOCOLS.includes(text as SecurityProtocol)) return text as SecurityProtocol;
  s.problem(`KAFKA_SECURITY_PROTOCOL: unknown protocol "${text}"; expected one of ${SECURITY_PROTOCOLS.join(', ')}`);
  return 'PLAINTEXT';
}

function readKafkaTls(s: EnvSettings): TlsSettings {
  const ca = certificates(s, 'KAFKA_TLS_CA');
  const cert = certificates(s, 'KAFKA_TLS_CERT');
  const keyPassword = s.value('KAFKA_TLS_KEY_PASSWORD');
  const key = s.value('KAFKA_TLS_KEY', { trim: false });
  if (Boolean(cert) !== Boolean(key)) {
    s.problem(
      cert
        ? `KAFKA_TLS_KEY: required with ${s.source('KAFKA_TLS_CERT')} (the client certificate's private key)`
        : `KAFKA_TLS_CERT: required with ${s.source('KAFKA_TLS_KEY')} (the certificate of that key)`,
    );
  }
  if (cert && key && s.checksContents) checkKeyPair(s, cert, key, keyPassword);
  const servername = s.raw('KAFKA_TLS_SERVERNAME')?.trim();
  return { ca, cert, key, keyPassword, servername, verifyHostname: s.boolean('KAFKA_TLS_VERIFY_HOSTNAME', true) };
}

/** PEM certificates of NAME/NAME_FILE, checked to parse and to be valid now (the first one, a leaf). */
function certificates(s: EnvSettings, name: string): string | undefined {
  const pem = s.value(name, { trim: false });
  if (!pem || !s.checksContents) return pem;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    s.problem(`${s.source(name)}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`);
    return pem;
  }
  try {
    const first = new X509Certificate(blocks[0]!);
    if (name === 'KAFKA_TLS_CERT') {
      if (new Date(first.validTo) < s.now) s.problem(`${s.source(name)}: the client certificate (${first.subject.replace(/\n/g, ', ')}) expired on ${new Date(first.validTo).toISOString()}`);
      else if (new Date(first.validFrom) > s.now) s.problem(`${s.source(name)}: the client certificate is not valid before ${new Date(first.validFrom).toISOString()}`);
    }
    for (const block of blocks.slice(1)) new X509Certificate(block);
  } catch (error) {
    s.problem(`${s.source(name)}: not a valid PEM certificate (${(error as Error).message})`);
  }
  return pem;
}

function checkKeyPair(s: EnvSettings, certPem: string, keyPem: string, passphrase: string | undefined): void {
  let key;
  try {
    key = createPrivateKey({ key: keyPem, passphrase });
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(keyPem);
    s.problem(
      `${s.source('KAFKA_TLS_KEY')}: not a usable PEM private key${encrypted && !passphrase ? ' (it is encrypted: set KAFKA_TLS_KEY_PASSWORD)' : encrypted ? ' (wrong KAFKA_TLS_KEY_PASSWORD?)' : ''} (${(error as Error).message})`,
    );
    return;
  }
  try {
    if (!new X509Certificate(certPem).checkPrivateKey(key)) {
      s.problem(`${s.source('KAFKA_TLS_KEY')}: the private key does not belong to the certificate in ${s.source('KAFKA_TLS_CERT')}`);
    }
  } catch {
    // An unparsable certificate is reported by certificates().
  }
}

function readSasl(s: EnvSettings, mechanism: SaslMechanism): SaslSettings | undefined {
  if (mechanism === 'oauthbearer') {
    const token = readTokenSource(s);
    return token && { mechanism, token };
  }
  const username = s.value('KAFKA_SASL_USERNAME');
  const password = s.value('KAFKA_SASL_PASSWORD');
  // Set but unreadable is reported by value(); only a missing setting is reported here.
  if (!s.has('KAFKA_SASL_USERNAME')) s.problem(`KAFKA_SASL_USERNAME: required for SASL ${mechanism.toUpperCase()}`);
  if (!s.has('KAFKA_SASL_PASSWORD')) s.problem(`KAFKA_SASL_PASSWORD: required for SASL ${mechanism.toUpperCase()} (or KAFKA_SASL_PASSWORD_FILE)`);
  return { mechanism, username: username ?? '', password: password ?? '' };
}

const TOKEN_SOURCES = ['KAFKA_SASL_OAUTHBEARER_TOKEN', 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', 'KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND', 'KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB'];

function readTokenSource(s: EnvSettings): OAuthTokenSource | undefined {
  const set = TOKEN_SOURCES.filter((name) => s.raw(name));
  if (set.length !== 1) {
    s.problem(
      set.length === 0
        ? `KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: SASL OAUTHBEARER needs a token source: one of ${TOKEN_SOURCES.join(', ')}`
        : `KAFKA_SASL_OAUTHBEARER_*: set one token source, not ${set.join(' and ')}`,
    );
    return undefined;
  }
  const lifetime = Number(s.raw('KAFKA_SASL_OAUTHBEARER_UNSECURED_LIFETIME_MS') ?? 3600_000);
  if (!Number.isInteger(lifetime) || lifetime < 1000) s.problem('KAFKA_SASL_OAUTHBEARER_UNSECURED_LIFETIME_MS: expected an integer of at least 1000');
  switch (set[0]) {
    case 'KAFKA_SASL_OAUTHBEARER_TOKEN':
      return { kind: 'static', token: s.raw('KAFKA_SASL_OAUTHBEARER_TOKEN')!.trim() };
    case 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE':
      // Re-read whenever a token is needed: whatever rotates the file (a sidecar, a projected token) is picked up.
      return { kind: 'file', path: s.path('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE')! };
    case 'KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND':
      return { kind: 'command', command: s.raw('KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND')! };
    default:
      return { kind: 'unsecured', subject: s.raw('KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB')!.trim(), lifetimeMs: lifetime };
  }
}

/** SCHEMA_REGISTRY_URL plus basic auth (USER_INFO or USERNAME/PASSWORD), a bearer token, a CA. */
export function readRegistryConnection(s: EnvSettings): RegistryConnection {
  const url = s.raw('SCHEMA_REGISTRY_URL')?.trim();
  let parsed: URL | undefined;
  if (!url) s.problem('SCHEMA_REGISTRY_URL: required');
  else {
    try {
      parsed = new URL(url);
      if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('protocol');
    } catch {
      parsed = undefined;
      s.problem('SCHEMA_REGISTRY_URL: expected an http:// or https:// URL');
    }
    if (parsed && (parsed.username || parsed.password)) s.problem('SCHEMA_REGISTRY_URL: put credentials in SCHEMA_REGISTRY_USER_INFO (or _USERNAME/_PASSWORD), not in the URL');
  }
  const styles = [
    s.has('SCHEMA_REGISTRY_USER_INFO') && 'SCHEMA_REGISTRY_USER_INFO',
    (s.has('SCHEMA_REGISTRY_USERNAME') || s.has('SCHEMA_REGISTRY_PASSWORD')) && 'SCHEMA_REGISTRY_USERNAME/PASSWORD',
    s.has('SCHEMA_REGISTRY_BEARER_TOKEN') && 'SCHEMA_REGISTRY_BEARER_TOKEN',
  ].filter((style): style is string => Boolean(style));
  if (styles.length > 1) s.problem(`SCHEMA_REGISTRY_*: set one kind of registry credentials, not ${styles.join(' and ')}`);

  let auth: RegistryAuth | undefined;
  if (styles[0] === 'SCHEMA_REGISTRY_USER_INFO') {
    const userInfo = s.value('SCHEMA_REGISTRY_USER_INFO') ?? '';
    const colon = userInfo.indexOf(':');
    if (s.checksContents && colon <= 0) s.problem(`${s.source('SCHEMA_REGISTRY_USER_INFO')}: expected key:secret`);
    auth = { kind: 'basic', username: userInfo.slice(0, Math.max(colon, 0)), password: userInfo.slice(colon + 1) };
  } else if (styles[0] === 'SCHEMA_REGISTRY_USERNAME/PASSWORD') {
    const username = s.value('SCHEMA_REGISTRY_USERNAME');
    const password = s.value('SCHEMA_REGISTRY_PASSWORD');
    if (!s.has('SCHEMA_REGISTRY_USERNAME')) s.problem('SCHEMA_REGISTRY_USERNAME: required with SCHEMA_REGISTRY_PASSWORD');
    if (!s.has('SCHEMA_REGISTRY_PASSWORD')) s.problem('SCHEMA_REGISTRY_PASSWORD: required with SCHEMA_REGISTRY_USERNAME (or SCHEMA_REGISTRY_PASSWORD_FILE)');
    auth = { kind: 'basic', username: username ?? '', password: password ?? '' };
  } else if (styles[0]) {
    auth = { kind: 'bearer', token: s.value('SCHEMA_REGISTRY_BEARER_TOKEN') ?? '' };
  }
  const ca = s.has('SCHEMA_REGISTRY_CA') ? certificates(s, 'SCHEMA_REGISTRY_CA') : undefined;
  if (ca !== undefined && parsed && parsed.protocol !== 'https:') s.problem(`${s.source('SCHEMA_REGISTRY_CA')}: set, but SCHEMA_REGISTRY_URL is not https://`);
  return { url: url ?? '', auth, ca };
}

/** For the CLIs and tools: the Kafka and registry settings alone, or a ConfigError listing every problem. */
export function loadConnections(env: NodeJS.ProcessEnv, clientId: string, options: ReadOptions = {}): { kafka: KafkaConnection; registry: RegistryConnection } {
  const s = new EnvSettings(env, options);
  const kafka = readKafkaConnection(s, clientId);
  const registry = readRegistryConnection(s);
  if (s.problems.length > 0) throw new ConfigError(s.problems);
  return { kafka, registry };
}

/** Kafka settings alone (tests and benchmarks, which bring their own registry URL). */
export function loadKafkaConnection(env: NodeJS.ProcessEnv, clientId: string): KafkaConnection {
  const s = new EnvSettings(env);
  const kafka = readKafkaConnection(s, clientId);
  if (s.problems.length > 0) throw new ConfigError(s.problems);
  return kafka;
}
