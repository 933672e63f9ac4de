import { readFileSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/**
 * The version in this project's package.json, found upwards from this file: two levels up from
 * src/app (tsx) and dist/app, deeper under bench/.build.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'capture-worker' && pkg.version) return (cached = pkg.version);
    } catch {
      // not here
    }
    if (path.dirname(dir) === dir) return (cached = 'unknown');
  }
}
