import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { AuthenticationProviderArgs, Kafka, KafkaConfig, KafkaJSSASLAuthenticationError, logCreator, logLevel, Mechanism, OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection, OAuthTokenSource, SaslSettings, TlsSettings } from '../config/connection';
import { sleep } from '../util/sleep';

const run = promisify(execFile);

/**
 * Supplies OAUTHBEARER tokens. A cloud provider's signer plugs in here (createKafka's
 * `tokenProvider`) or, without code, through KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND (README).
 */
export type TokenProvider = () => Promise<OauthbearerProviderResponse>;

export interface KafkaClientOptions {
  /** KafkaJS's own log lines go to this logger; without it they are dropped. */
  logger?: Logger;
  /** The application's level (LOG_LEVEL); KafkaJS logs at debug only when it is debug or trace. */
  level?: string;
  tokenProvider?: TokenProvider;
  retry?: KafkaConfig['retry'];
}

/** The one place a KafkaJS client is built, so every process connects the same way. */
export function createKafka(connection: KafkaConnection, options: KafkaClientOptions = {}): Kafka {
  const { logger } = options;
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.tls && tlsOptions(connection.tls),
    sasl: connection.sasl && saslOptions(connection.sasl, options.tokenProvider),
    // The TLS handshake counts toward the connection timeout; KafkaJS's 1 s is tight on a busy host.
    ...(connection.tls ? { connectionTimeout: 10_000 } : {}),
    logLevel: logger ? kafkaLogLevel(options.level ?? 'info') : logLevel.NOTHING,
    ...(logger ? { logCreator: pinoLogCreator(logger) } : {}),
    retry: options.retry,
  });
}

export function kafkaLogLevel(appLevel: string): logLevel {
  if (appLevel === 'debug' || appLevel === 'trace') return logLevel.DEBUG;
  if (appLevel === 'silent') return logLevel.NOTHING;
  // KafkaJS's info lines (every group join, every producer) would drown the worker's own.
  return logLevel.WARN;
}

/**
 * Said by KafkaJS for every partition's producer at every open, and not true here: a send that
 * exhausts its bounded retries fails its transaction, which is aborted and its records consumed
 * again, so nothing is committed twice (retrying forever would instead stall the partition).
 */
const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

function pinoLogCreator(logger: Logger): logCreator {
  const method: Partial<Record<logLevel, 'error' | 'warn' | 'info' | 'debug'>> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      if (message === BOUNDED_RETRIES_WARNING) return;
      logger[method[level] ?? 'warn']({ kafka: log.logger, ...fields }, message);
    };
}

export function tlsOptions(tls: TlsSettings): ConnectionOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.keyPassword,
    servername: tls.servername,
    rejectUnauthorized: true,
    // The chain is still verified; only the host name check is skipped (KAFKA_TLS_VERIFY_HOSTNAME=false).
    ...(tls.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

function saslOptions(sasl: SaslSettings, tokenProvider?: TokenProvider): SASLOptions | Mechanism {
  if (sasl.mechanism === 'oauthbearer') return { mechanism: 'OAUTHBEARER', authenticationProvider: oauthBearer(tokenProvider ?? cachedTokenProvider(sasl.token)) };
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

/**
 * OAUTHBEARER as RFC 7628 has it. KafkaJS's own takes the broker's error challenge to a refused
 * token for success, and the connection then fails later with a misleading error; here the
 * challenge is answered (%x01, as the broker waits for) and the login fails with its status.
 */
function oauthBearer(provider: TokenProvider): Mechanism['authenticationProvider'] {
  const bytes = (text: string) => ({ encode: () => Buffer.concat([int32(Buffer.byteLength(text)), Buffer.from(text)]) });
  // The broker's auth bytes come with their int32 length in front. KafkaJS's path for brokers without
  // SaslAuthenticate calls decode(...).then(...): decode returns a promise, which a short buffer rejects.
  const raw = {
    // eslint-disable-next-line @typescript-eslint/require-await -- a promise is required, see above
    decode: async (data: Buffer) => data.subarray(4, 4 + Math.max(0, data.readInt32BE(0))),
    parse: (data: Buffer) => data,
  };
  return ({ saslAuthenticate }: AuthenticationProviderArgs) => ({
    authenticate: async () => {
      const { value } = await provider();
      const challenge = await saslAuthenticate({ request: bytes(`n,,\u0001auth=Bearer ${value}\u0001\u0001`), response: raw });
      if (!challenge || challenge.length === 0) return;
      let status = 'refused';
      try {
        status = String((JSON.parse(challenge.toString('utf8')) as { status?: string | number }).status ?? status);
      } catch {
        // not JSON: keep the generic word
      }
      await saslAuthenticate({ request: bytes('\u0001') }).catch(() => undefined);
      throw new SaslAuthenticationError(`SASL OAUTHBEARER authentication failed: the broker refused the token (${status})`);
    },
  });
}

// Its type declares no constructor arguments; at run time it takes the message (and is not retried).
const SaslAuthenticationError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/**
 * Fetches a token once for all connections and again when 80% of its lifetime (the JWT `exp`
 * claim; 60 s when it has none) has passed.
 */
export function cachedTokenProvider(source: OAuthTokenSource, now: () => number = Date.now): TokenProvider {
  let cached: { value: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return async () => {
    if (cached && now() < cached.refreshAt) return { value: cached.value };
    pending ??= fetchToken(source).finally(() => (pending = undefined));
    const value = await pending;
    const expiresAt = jwtExpiry(value);
    const start = now();
    cached = { value, refreshAt: expiresAt ? start + 0.8 * (expiresAt - start) : start + 60_000 };
    return { value };
  };
}

async function fetchToken(source: OAuthTokenSource): Promise<string> {
  switch (source.kind) {
    case 'static':
      return source.token;
    case 'file':
      return (await readFile(source.path, 'utf8')).trim();
    case 'unsecured':
      return unsecuredJws(source.subject, source.lifetimeMs);
    case 'command': {
      try {
        const { stdout } = await run('/bin/sh', ['-c', source.command], { timeout: 30_000, maxBuffer: 1024 * 1024 });
        const token = stdout.trim();
        if (!token) throw new Error('it printed nothing');
        return token;
      } catch (error) {
        // Its output is not repeated: it may hold the token or a credential.
        const e = error as { code?: number | string; killed?: boolean; message: string };
        // No cause attached either: the command's error carries its output.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(`KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND failed: ${e.killed ? 'timed out after 30 s' : typeof e.code === 'number' ? `exit code ${e.code}` : e.message}`);
      }
    }
  }
}

/** An unsigned JWT (`alg: none`), what Kafka's OAuthBearerUnsecuredJws validator accepts. */
export function unsecuredJws(subject: string, lifetimeMs: number, nowMs = Date.now()): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const iat = Math.floor(nowMs / 1000);
  return `${encode({ alg: 'none' })}.${encode({ sub: subject, iat, exp: iat + Math.floor(lifetimeMs / 1000) })}.`;
}

function jwtExpiry(token: string): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Kafka could not be reached or refused us; the message says what to change. */
export class KafkaConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaConnectionError';
  }
}

/**
 * Connects before anything else, so a wrong password, CA, server name or certificate ends the
 * start at once with a message naming the setting. Other failures (a broker not up yet) are
 * tried again for about as long as KafkaJS's own retries would, then explained the same way.
 */
export async function verifyKafka(connection: KafkaConnection, options: { tokenProvider?: TokenProvider; timeoutMs?: number } = {}): Promise<void> {
  const probe = createKafka(connection, { tokenProvider: options.tokenProvider, retry: { retries: 0 } });
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (let attempt = 0; ; attempt++) {
    const admin = probe.admin();
    try {
      await admin.connect();
      return;
    } catch (error) {
      const { message, permanent } = explainKafkaError(error as Error, connection);
      if (permanent || Date.now() >= deadline) throw new KafkaConnectionError(message);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await sleep(Math.max(0, Math.min(300 * 2 ** attempt, 3000, deadline - Date.now())));
  }
}

interface Explanation {
  message: string;
  /** A configuration problem: trying again cannot help. */
  permanent: boolean;
}

/** Turns a KafkaJS or TLS error into what went wrong and which setting to look at. */
export function explainKafkaError(error: Error, connection: KafkaConnection): Explanation {
  const chain: Array<Error & { code?: string; type?: string }> = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const text = chain.map((e) => `${e.code ?? ''} ${e.type ?? ''} ${e.message}`).join(' | ');
  const last = chain[chain.length - 1].message.replace(/^Connection error: /, '');
  // OpenSSL's alerts arrive as a multi-line dump; the alert's name is what matters.
  const reason = /alert ([a-z ]+?):/.exec(last)?.[1]?.replace(/^/, 'TLS alert: ') ?? last;
  const where = `Kafka (${connection.brokers.join(',')}, ${connection.protocol}${connection.sasl ? ` ${connection.sasl.mechanism.toUpperCase()}` : ''})`;
  const is = (pattern: RegExp) => pattern.test(text);
  const permanent = (hint: string, what = reason): Explanation => ({ message: `${where}: ${what}. ${hint}`, permanent: true });

  if (chain.some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    if (is(/mechanism is not supported/))
      return permanent(`The listener does not offer it: set KAFKA_SASL_MECHANISM to one it enables, or use the broker's port for ${connection.sasl?.mechanism.toUpperCase() ?? 'SASL'}`);
    const who = connection.sasl && 'username' in connection.sasl ? ` as "${connection.sasl.username}"` : '';
    const check =
      connection.sasl?.mechanism === 'oauthbearer'
        ? 'Check the token source (KAFKA_SASL_OAUTHBEARER_*): the broker must accept its issuer, audience, scope and expiry'
        : 'Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE)';
    return permanent(check, `authentication${who} failed: ${reason.replace(/^SASL \S+( \S+)? authentication failed: /, '')}`);
  }
  if (is(/TOKEN_COMMAND failed/)) return permanent('Run the command by hand to see why', reason);
  if (is(/SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|certificate chain/)) {
    return permanent(
      `Set KAFKA_TLS_CA_FILE to the CA bundle that signed the broker's certificate${connection.tls?.ca ? ' (the one set does not)' : ''}`,
      `the broker's TLS certificate is not trusted (${reason})`,
    );
  }
  if (is(/ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match/)) {
    return permanent(
      `Connect with a name the certificate lists${connection.tls?.servername ? ', or correct KAFKA_TLS_SERVERNAME' : ' (or set KAFKA_TLS_SERVERNAME to one)'}`,
      `the broker's TLS certificate does not match the server name (${reason})`,
    );
  }
  if (is(/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/)) return permanent("Renew it on the broker, or check this host's clock", `the broker's TLS certificate is not valid now (${reason})`);
  const certificateAlert =
    /ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR|CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE)/;
  if (is(certificateAlert) && !connection.tls?.cert) {
    return permanent('The listener wants mutual TLS: set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE', `the broker requires a client certificate and none is set (${reason})`);
  }
  if (is(certificateAlert)) {
    return permanent('Use a certificate signed by a CA the broker trusts, current and made for client authentication (KAFKA_TLS_CERT_FILE)', `the broker rejected the client certificate (${reason})`);
  }
  if (is(/WRONG_VERSION_NUMBER|packet length too long|ERR_SSL_/)) {
    return permanent('The port does not speak TLS: check KAFKA_SECURITY_PROTOCOL and the port', `TLS failed (${reason})`);
  }
  if (connection.tls && is(/before secure TLS connection was established/)) {
    return { message: `${where}: the connection closed during the TLS handshake (${reason}). Does this port speak TLS? Check KAFKA_SECURITY_PROTOCOL and the port`, permanent: false };
  }
  if (!connection.tls && is(/Closed connection|closed by the server|Connection timeout|ECONNRESET|Request timed out/)) {
    return {
      message: `${where}: the broker closed the connection (${reason}). If the listener expects TLS or SASL, set KAFKA_SECURITY_PROTOCOL (SSL, SASL_SSL) and its settings`,
      permanent: false,
    };
  }
  return { message: `${where}: cannot connect (${reason}). Check KAFKA_BROKERS and that the brokers are up`, permanent: false };
}
