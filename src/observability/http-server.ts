import http from 'node:http';
import type { Registry } from 'prom-client';
import { errorMessage } from '../util/errors';
import type { LivenessVerdict } from './liveness';

export interface HealthSources {
  /** Whether a restart would help (see ./liveness); undefined reason: alive. */
  alive(): LivenessVerdict;
  /** Consumer joined, producer connected, registry reachable. */
  ready(): Promise<boolean> | boolean;
  registry: Registry;
}

/** `/healthz` (a restart would not help), `/readyz` (it can do work) and `/metrics` on a port of their own. */
export async function startHealthServer(port: number, sources: HealthSources, host = '0.0.0.0'): Promise<http.Server & { port: number }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/healthz') {
      const verdict = sources.alive();
      return verdict.alive ? reply(200, 'ok\n') : reply(503, `not alive: ${verdict.reason}\n`);
    }
    if (path === '/readyz') {
      Promise.resolve(sources.ready())
        .then((ready) => reply(ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n'))
        .catch(() => reply(503, 'not ready\n'));
      return;
    }
    if (path === '/metrics') {
      sources.registry
        .metrics()
        .then((text) => reply(200, text, sources.registry.contentType))
        .catch((error: unknown) => reply(500, errorMessage(error)));
      return;
    }
    reply(404, 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return Object.assign(server, { port: typeof address === 'object' && address ? address.port : port });
}
