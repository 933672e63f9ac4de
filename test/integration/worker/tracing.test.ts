/**
 * An order's trace survives the capture and its retries: the `traceparent` of a request record
 * arrives on every outcome and retry record of that request with the same trace id. With tracing
 * configured (OTLP endpoint) the worker exports one span per attempt and one per API call, each
 * attempt a child of the one before; without it the headers pass through as they came.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readToEnd } from '../../support/kafka';
import { request, WorkerHarness } from '../../support/worker-harness';
import { WorkerProcess } from '../../support/worker-process';
import { waitFor } from '../../support/wait';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const traceparent = `00-${TRACE_ID}-${PARENT}-01`;

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A stand-in OpenTelemetry collector: keeps every span posted to /v1/traces (OTLP/HTTP JSON). */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }> };
      for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const traceIdOf = (header: string | undefined) => header?.split('-')[1];

describe('tracing', () => {
  it('configured: every outcome and retry record of a request carries its trace, and each attempt and API call is a span of it', async () => {
    const collector = await startCollector();
    const h = new WorkerHarness('traced');
    let worker: WorkerProcess | undefined;
    try {
      await h.setup({}, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
      // Its own process, as deployed: the exporter's transport loads modules jest's sandbox does not allow.
      worker = new WorkerProcess({ ...h.env, LOG_LEVEL: 'info' });
      worker.start();
      await h.produce([{ key: 'traced-1', value: request('unknown-2-traced'), headers: { traceparent, baggage: 'order=o-1' } }]);
      const outcomeTopics = [h.topics.succeeded, h.topics.unknown];
      await waitFor(
        async () => (await readToEnd(h.kafka, [h.topics.succeeded])).length > 0,
        60_000,
        () => '(succeeded)',
      );
      const outcomes = await readToEnd(h.kafka, outcomeTopics);
      expect(outcomes.map((o) => o.topic).sort()).toEqual([h.topics.succeeded, h.topics.unknown, h.topics.unknown].sort());
      for (const o of outcomes) expect(traceIdOf(o.headers.traceparent)).toBe(TRACE_ID);
      const retries = await readToEnd(
        h.kafka,
        ['250ms', '1s', '5s', '5m'].map((tier) => `${h.topics.retry}.${tier}`),
      );
      expect(retries).toHaveLength(2);
      for (const r of retries) expect(traceIdOf(r.headers.traceparent)).toBe(TRACE_ID);
      expect(outcomes.every((o) => o.headers.baggage === 'order=o-1')).toBe(true);

      expect(await worker.stop('SIGTERM')).toBe(0); // flushes the spans
      expect(worker.output).toMatch(new RegExp(`"trace_id":"${TRACE_ID}"`));
      const mine = collector.spans.filter((s) => s.traceId === TRACE_ID);
      const attempts = mine.filter((s) => s.name === 'capture attempt');
      const calls = mine.filter((s) => s.name === 'POST');
      expect({ attempts: attempts.length, calls: calls.length }).toEqual({ attempts: 3, calls: 3 });
      // Attempt 1 is a child of the producer's span; each later one of the attempt that scheduled it.
      const byId = new Map(attempts.map((s) => [s.spanId, s]));
      const first = attempts.find((s) => s.parentSpanId === PARENT)!;
      expect(first).toBeDefined();
      const second = attempts.find((s) => s.parentSpanId === first.spanId)!;
      expect(second).toBeDefined();
      expect(attempts.find((s) => s.parentSpanId === second.spanId)).toBeDefined();
      for (const call of calls) expect(byId.has(call.parentSpanId!)).toBe(true);
      const attrs = (s: ExportedSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
      expect(calls.map((c) => attrs(c)['capture.result_code']).sort()).toEqual(['SUCCESS', 'UNKNOWN_EXCEPTION', 'UNKNOWN_EXCEPTION']);
      expect(JSON.stringify(mine)).not.toMatch(/signature|PRIVATE KEY/i);
    } finally {
      await worker?.stop('SIGKILL');
      await h.teardown();
      collector.server.close();
    }
  }, 120_000);

  it('not configured: the trace headers pass through to the outcome unchanged', async () => {
    const h = new WorkerHarness('untraced');
    try {
      await h.setup();
      await h.startWorker();
      await h.produce([{ key: 'untraced-1', value: request('pay-untraced'), headers: { traceparent, tracestate: 'vendor=x' } }]);
      await waitFor(
        async () => (await readToEnd(h.kafka, [h.topics.succeeded])).length > 0,
        60_000,
        () => '(succeeded)',
      );
      const [outcome] = await readToEnd(h.kafka, [h.topics.succeeded]);
      expect({ traceparent: outcome.headers.traceparent, tracestate: outcome.headers.tracestate }).toEqual({ traceparent, tracestate: 'vendor=x' });
    } finally {
      await h.teardown();
    }
  }, 60_000);
});
