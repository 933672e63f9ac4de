import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EventName } from './contract';

/** `schemas/` sits at the package root both from `src/events` and from `dist/events`. */
export const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', 'schemas');

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: Array<{ name: string; type: unknown; doc?: string; default?: unknown }>;
}

export function readSchema(name: EventName): AvroRecordSchema {
  return JSON.parse(readFileSync(path.join(SCHEMAS_DIR, `${name}.avsc`), 'utf8')) as AvroRecordSchema;
}
