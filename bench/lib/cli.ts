/**
 * What every bench's command line shares: --help prints the entry point's leading comment, options
 * are parsed by node:util, numbers are checked, and `--env NAME=VALUE` pairs become an environment.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type BenchValues<O extends OptionSpec> = ReturnType<typeof parseArgs<{ options: O }>>['values'];

export const log = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * With --help or -h among the arguments, prints the file's leading comment (its usage) and returns
 * true, so main returns before it starts anything.
 */
export function printedUsage(file: string, args: string[] = process.argv.slice(2)): boolean {
  if (!args.includes('--help') && !args.includes('-h')) return false;
  const comment = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  console.log(
    comment
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n')
      .trim(),
  );
  return true;
}

/** The options of a bench entry point (`file`: its __filename), or undefined when --help printed its usage. */
export function benchArgs<O extends OptionSpec>(file: string, options: O, args: string[] = process.argv.slice(2)): BenchValues<O> | undefined {
  if (printedUsage(file, args)) return undefined;
  return parseArgs({ args, options }).values;
}

/** String options with their defaults, in node:util's form. */
export function stringOptions<K extends string>(defaults: Record<K, string>): Record<K, { type: 'string'; default: string }> {
  return Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string', default: value }])) as Record<K, { type: 'string'; default: string }>;
}

/** `--name`'s value as a non-negative number; `fallback` when it was not given. */
export function nonNegative(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

/** A comma-separated list of non-negative numbers (empty items skipped). */
export function numberList(name: string, value: string): number[] {
  return value
    .split(',')
    .filter(Boolean)
    .map((v) => nonNegative(name, v));
}

/** Repeated `--env NAME=VALUE` as an environment. */
export function envPairs(pairs: string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}
