import { trace } from '@opentelemetry/api';
import pino, { Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Anything that could carry key material or credentials is censored by path, as a
 * second line of defence: the code itself never passes keys or signatures to the logger.
 */
export const REDACTED_PATHS = [
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
  'signature',
  '*.signature',
  'headers.signature',
  'headers.Signature',
  '*.headers.signature',
  '*.headers.Signature',
  'authorization',
  '*.authorization',
  'password',
  '*.password',
  'pem',
  '*.pem',
];

/** trace_id/span_id of the active span (none without a tracer: @opentelemetry/api alone is a no-op). */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/**
 * Levels as words (`"level":"warn"`), which log pipelines filter on without a lookup table; every
 * line names the service and its version, and trace_id/span_id while a traced attempt runs.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, version?: string): Logger {
  return pino(
    {
      level,
      base: { service: 'capture-worker', ...(version !== undefined && { version }) },
      formatters: { level: (label) => ({ level: label }) },
      // The trace of the capture attempt a line belongs to, when tracing is on.
      mixin: traceFields,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
