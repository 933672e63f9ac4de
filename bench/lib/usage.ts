import { readFileSync } from 'node:fs';

/**
 * For a bench entry point: with --help or -h among the arguments, prints the file's leading
 * comment (its usage) and returns true, so main returns before it starts anything.
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
