import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IHeaders } from 'kafkajs';
import type { TracingSettings } from '../config/config';

/** W3C trace context and baggage: what a request record's trace is carried in. */
export const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'] as const;

const getter: TextMapGetter<IHeaders | undefined> = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: (headers, key) => {
    const value = headers?.[key];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/** The record's own trace headers, untouched. */
function passThrough(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = getter.get(headers, name);
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/**
 * OpenTelemetry for the capture path: a span per capture attempt, child of the trace the request
 * record carries, with a client span per API call; its context goes on every outcome and retry
 * record, so an order's trace runs through every retry. Off (no SDK, no cost) unless configured:
 * then the record's own trace headers are passed through as they came.
 */
export class Tracing {
  private constructor(
    private readonly provider: NodeTracerProvider | undefined,
    private readonly clientAttributes: Record<string, string | number> = {},
  ) {}

  static off(): Tracing {
    return new Tracing(undefined);
  }

  /** Exports over OTLP/HTTP in batches; off without settings. */
  static start(settings: TracingSettings | undefined, o: { version: string; apiUrl: string; path: string }): Tracing {
    if (!settings) return Tracing.off();
    // Loaded only when tracing is on: the SDK adds a second or so to every start under tsx.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
    const { BatchSpanProcessor, NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
    const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const url = new URL(o.apiUrl);
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: o.version }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.endpoint }))],
    });
    provider.register();
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return new Tracing(provider, { 'http.request.method': 'POST', 'server.address': url.hostname, 'server.port': port, 'url.full': `${url.origin}${url.pathname.replace(/\/+$/, '')}${o.path}` });
  }

  get enabled(): boolean {
    return this.provider !== undefined;
  }

  /** Runs one capture attempt in its span, parented by the record's trace headers; `attributes` is only called when tracing is on. */
  attempt<T>(headers: IHeaders | undefined, attributes: () => Record<string, string | number>, work: () => Promise<T>): Promise<T> {
    if (!this.provider) return work();
    const parent = propagation.extract(ROOT_CONTEXT, headers, getter);
    return trace.getTracer('capture-worker').startActiveSpan('capture attempt', { kind: SpanKind.CONSUMER, attributes: attributes() }, parent, (span) => ended(span, work));
  }

  /**
   * The API call as a client span of the current attempt (never with the signature, key or body);
   * `describe` turns its result into attributes, and an error message when the call failed.
   */
  call<T>(work: () => Promise<T>, describe: (result: T) => { attributes: Record<string, string | number>; error?: string }): Promise<T> {
    if (!this.provider) return work();
    return trace.getTracer('capture-worker').startActiveSpan('POST', { kind: SpanKind.CLIENT, attributes: this.clientAttributes }, (span) =>
      ended(span, async () => {
        const result = await work();
        const { attributes, error } = describe(result);
        span.setAttributes(attributes);
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        return result;
      }),
    );
  }

  /** Trace headers for a record written on behalf of `source`: the attempt's context, or the source's own. */
  headersFor(source: IHeaders | undefined): Record<string, string> {
    if (!this.provider) return passThrough(source);
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier;
  }

  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

async function ended<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
