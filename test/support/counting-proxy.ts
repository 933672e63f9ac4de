import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of the sandbox, one per worker instance, so calls can be
 * attributed to the instance that made them: the sandbox counts calls only in total. Requests and
 * responses go through byte for byte (signatures cover method, path, headers and body, not the
 * host), so the worker cannot tell it is there.
 */
export class CountingProxy {
  /** Calls received from the worker and not yet answered to it. */
  inFlight = 0;
  calls = 0;
  /** When each answer was fully handed to the worker's socket (Date.now()). */
  readonly answeredAt: number[] = [];
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const upstream = new URL(target);
    // eslint-disable-next-line prefer-const -- assigned once the server exists, read by its handler
    let proxy!: CountingProxy;
    const server = createServer((req, res) => {
      proxy.calls++;
      proxy.inFlight++;
      res.once('close', () => proxy.inFlight--);
      res.once('finish', () => proxy.answeredAt.push(Date.now()));
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: proxy.agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.once('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new CountingProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** Answers handed over after `since` (e.g. to a process that was stopped then). */
  answeredSince(since: number, until = Infinity): number {
    return this.answeredAt.filter((t) => t > since && t <= until).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.agent.destroy();
    });
  }
}
