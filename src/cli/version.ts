import { readFileSync } from 'node:fs';
import path from 'node:path';

/** package.json sits two levels up from both src/cli (tsx) and dist/cli (compiled). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
