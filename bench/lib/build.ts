/**
 * Compiles the worker, the sandbox and the baseline to plain JS under bench/.build (not dist/,
 * which belongs to `npm run build`), so the measured processes run without a TS loader.
 * Falls back to tsx when the compile emits nothing (e.g. src/ is mid-edit).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'bench', '.build');

export interface Entrypoints {
  /** How they run: 'js' (compiled) or 'tsx'. */
  mode: 'js' | 'tsx';
  /** node arguments before the script's own arguments. */
  worker: string[];
  sandbox: string[];
  baseline: string[];
}

export function build(preferTsx = false): Entrypoints {
  const tsx = (file: string): string[] => ['--import', 'tsx', join(ROOT, file)];
  const viaTsx: Entrypoints = { mode: 'tsx', worker: tsx('src/cli/main.ts'), sandbox: tsx('tools/sandbox/cli.ts'), baseline: tsx('bench/baseline-worker.ts') };
  if (preferTsx) return viaTsx;
  mkdirSync(OUT, { recursive: true });
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'bench/tsconfig.build.json')], { stdio: 'pipe' });
  } catch (error) {
    // tsc still emits JS when there are type errors; only a missing output is fatal.
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    process.stderr.write(`warning: tsc reported errors (running what it emitted):\n${out.split('\n').slice(0, 10).join('\n')}\n`);
  }
  // src/events/schema-files.ts finds schemas/ two levels above its own directory.
  if (!existsSync(join(OUT, 'schemas'))) symlinkSync(join(ROOT, 'schemas'), join(OUT, 'schemas'));
  const js: Entrypoints = {
    mode: 'js',
    worker: [join(OUT, 'src/cli/main.js')],
    sandbox: [join(OUT, 'tools/sandbox/cli.js')],
    baseline: [join(OUT, 'bench/baseline-worker.js')],
  };
  if (![js.worker, js.sandbox, js.baseline].every(([file]) => existsSync(file))) {
    process.stderr.write('warning: compiled output missing; running through tsx\n');
    return viaTsx;
  }
  return js;
}

/**
 * The worker of another commit, checked out in the temp directory (outside the repo, so jest never
 * sees a second copy of the project), sharing this node_modules and compiled the same way: a
 * change is measured against what it replaces in the same run, stack, sandbox and load.
 */
export function buildRef(ref: string): string[] {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT })
    .toString()
    .trim();
  const dir = join(tmpdir(), 'capture-worker-bench-ref', sha.slice(0, 12));
  if (!existsSync(join(dir, 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'prune'], { cwd: ROOT });
    execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, sha], { cwd: ROOT, stdio: 'pipe' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  }
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'bench/tsconfig.build.json')], { stdio: 'pipe' });
  } catch {
    // Type errors still emit JS; a missing entry point is caught below.
  }
  const out = join(dir, 'bench', '.build');
  if (!existsSync(join(out, 'schemas'))) symlinkSync(join(dir, 'schemas'), join(out, 'schemas'));
  const worker = join(out, 'src/cli/main.js');
  if (!existsSync(worker)) throw new Error(`--compare-ref ${ref}: compiling ${sha.slice(0, 12)} produced no ${worker}`);
  return [worker];
}
