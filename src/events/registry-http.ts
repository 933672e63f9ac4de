import https from 'node:https';
import type { Middleware } from 'mappersmith';
import { Agent, request } from 'undici';
import type { RegistryAuth, RegistryConnection } from '../config/connection';

/** The schema registry answered with an error status or could not be reached; says what to change. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export function authorizationHeader(auth: RegistryAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

function credentialsName(auth: RegistryAuth | undefined): string {
  if (!auth) return 'no credentials are set (SCHEMA_REGISTRY_USER_INFO, SCHEMA_REGISTRY_USERNAME/PASSWORD or SCHEMA_REGISTRY_BEARER_TOKEN)';
  return auth.kind === 'bearer' ? 'the bearer token (SCHEMA_REGISTRY_BEARER_TOKEN)' : `the credentials of "${auth.username}" (SCHEMA_REGISTRY_USER_INFO or _USERNAME/_PASSWORD)`;
}

/** What a 401 or 403 means for this configuration; undefined for other statuses. */
export function explainRegistryStatus(connection: RegistryConnection, status: number, method: string, path: string): string | undefined {
  if (status === 401)
    return `schema registry ${connection.url} answered 401 Unauthorized to ${method} ${path}: ${connection.auth ? `it rejected ${credentialsName(connection.auth)}` : `it needs credentials and ${credentialsName(undefined)}`}`;
  if (status === 403)
    return `schema registry ${connection.url} answered 403 Forbidden to ${method} ${path}: ${credentialsName(connection.auth)} are accepted but not allowed to do this; grant write access to the subjects (or use credentials that have it)`;
  return undefined;
}

/** Network and TLS failures, with the setting to look at. */
export function explainRegistryFailure(connection: RegistryConnection, error: Error): string {
  const e: Error & { code?: string } = (error as { cause?: Error & { code?: string } }).cause ?? error;
  const text = `${e.code ?? ''} ${e.message}`;
  const where = `schema registry ${connection.url}`;
  if (/SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|certificate chain/.test(text)) {
    return `${where}: its TLS certificate is not trusted (${e.message}). Set SCHEMA_REGISTRY_CA_FILE to the CA bundle that signed it`;
  }
  if (/ERR_TLS_CERT_ALTNAME_INVALID/.test(text)) return `${where}: its TLS certificate does not match the host name (${e.message}). Use a host name the certificate lists`;
  if (/WRONG_VERSION_NUMBER|ERR_SSL_/.test(text)) return `${where}: TLS failed (${e.message}). Is the URL's scheme (http/https) right for that port?`;
  return `${where}: cannot connect (${e.message})`;
}

/** An https.Agent with the registry's CA, for the Confluent client (mappersmith uses node's http). */
export function registryAgent(connection: RegistryConnection): https.Agent | undefined {
  return connection.ca ? new https.Agent({ ca: connection.ca, keepAlive: true }) : undefined;
}

/** Adds the Authorization header to every request of the Confluent client. */
export function registryAuthMiddleware(connection: RegistryConnection): Middleware[] {
  const authorization = authorizationHeader(connection.auth);
  if (!authorization) return [];
  return [() => ({ prepareRequest: async (next) => (await next()).enhance({ headers: { authorization } }) })];
}

/** Plain HTTP calls to the Confluent-compatible API, with the configured credentials and CA. */
export class RegistryHttp {
  private readonly dispatcher: Agent | undefined;
  private readonly baseUrl: string;

  constructor(readonly connection: RegistryConnection) {
    this.baseUrl = connection.url.replace(/\/$/, '');
    this.dispatcher = connection.ca ? new Agent({ connect: { ca: connection.ca } }) : undefined;
  }

  /** Status and body; throws RegistryError only when there is no answer. */
  async send(method: string, path: string, payload?: unknown, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
    const authorization = authorizationHeader(this.connection.auth);
    try {
      const response = await request(`${this.baseUrl}${path}`, {
        method: method as 'GET',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...(authorization ? { authorization } : {}) },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      throw new RegistryError(explainRegistryFailure(this.connection, error as Error));
    }
  }

  /** The parsed JSON answer; any error status becomes a RegistryError that says why. */
  async call(method: string, path: string, payload?: unknown): Promise<unknown> {
    const { status, text } = await this.send(method, path, payload);
    if (status >= 200 && status < 300) return text ? JSON.parse(text) : {};
    throw new RegistryError(explainRegistryStatus(this.connection, status, method, path) ?? `schema registry ${method} ${path} answered ${status}: ${text.slice(0, 300)}`, status);
  }

  /** Start-up check: reachable, TLS trusted, credentials accepted. */
  async verify(): Promise<void> {
    await this.call('GET', '/subjects');
  }

  /** For the readiness probe: never throws. */
  async reachable(): Promise<boolean> {
    try {
      return (await this.send('GET', '/subjects', undefined, 2000)).status === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}
