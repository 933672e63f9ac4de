import { readFileSync } from 'node:fs';
import { GENERATED_TYPES_FILE, renderTypes } from '../../../tools/generate-types';

describe('TypeScript event types', () => {
  it('are exactly what the .avsc files generate (run `npm run schemas:types` after a schema change)', () => {
    expect(readFileSync(GENERATED_TYPES_FILE, 'utf8')).toBe(renderTypes());
  });
});
