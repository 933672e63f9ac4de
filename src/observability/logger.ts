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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'capture-worker' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
