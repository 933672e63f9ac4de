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

/**
 * Levels as words (`"level":"warn"`), which log pipelines filter on without a lookup table; every
 * line names the service and its version.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, version = process.env.npm_package_version): Logger {
  return pino(
    {
      level,
      base: { service: 'capture-worker', ...(version !== undefined && { version }) },
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
