import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { EVENT_NAMES } from '../src/events/contract';
import { AvroRecordSchema, readSchema } from '../src/events/schema-files';

/**
 * Renders `types.generated.ts` from the `.avsc` files, so the TypeScript event types cannot drift
 * from the schemas (a unit test re-renders and compares).
 */
export function renderTypes(): string {
  const emitted = new Map<string, string>();
  for (const name of EVENT_NAMES) renderRecord(readSchema(name), emitted);
  return ['// Generated from schemas/*.avsc by `npm run schemas:types`. Do not edit.', '', ...emitted.values()].join('\n');
}

function renderRecord(schema: AvroRecordSchema, emitted: Map<string, string>): string {
  if (emitted.has(schema.name)) return schema.name;
  emitted.set(schema.name, ''); // reserve the slot so nested types are emitted after their first user
  const fields = schema.fields.map((field) => {
    const doc = field.doc ? `  /** ${field.doc} */\n` : '';
    return `${doc}  ${field.name}: ${renderType(field.type, emitted)};`;
  });
  const doc = schema.doc ? `/** ${schema.doc} */\n` : '';
  emitted.set(schema.name, `${doc}export interface ${schema.name} {\n${fields.join('\n')}\n}\n`);
  return schema.name;
}

function renderType(type: unknown, emitted: Map<string, string>): string {
  if (Array.isArray(type)) return type.map((member) => renderType(member, emitted)).join(' | ');
  if (typeof type === 'string') {
    const primitive: Record<string, string> = { null: 'null', string: 'string', boolean: 'boolean', int: 'number', long: 'number', double: 'number', float: 'number', bytes: 'Buffer' };
    return primitive[type] ?? type;
  }
  const complex = type as { type: string; values?: unknown; items?: unknown };
  switch (complex.type) {
    case 'record':
      return renderRecord(complex as AvroRecordSchema, emitted);
    case 'map':
      return `Record<string, ${renderType(complex.values, emitted)}>`;
    case 'array':
      return `Array<${renderType(complex.items, emitted)}>`;
    default:
      return renderType(complex.type, emitted);
  }
}

export const GENERATED_TYPES_FILE = path.join(__dirname, '..', 'src', 'events', 'types.generated.ts');

if (require.main === module) {
  writeFileSync(GENERATED_TYPES_FILE, renderTypes());
  console.log(`wrote ${GENERATED_TYPES_FILE}`);
}
