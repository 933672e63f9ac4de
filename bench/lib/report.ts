/** Numbers, tables and result files of the benches (charts: ./chart.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './build';

export const RESULTS = join(ROOT, 'bench', 'results');

/** Writes `bench/results/<file>` as JSON, and a copy under `bench/results/history/` when `historyFile` is given (git-ignored). */
export function writeResult(file: string, data: unknown, historyFile?: string): string {
  const body = JSON.stringify(data, null, 2);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, file), body);
  if (historyFile) {
    mkdirSync(join(RESULTS, 'history'), { recursive: true });
    writeFileSync(join(RESULTS, 'history', historyFile), body);
  }
  return `bench/results/${file}`;
}

/** An ISO timestamp to the second, as the results are stamped. */
export const stampNow = (): string => new Date().toISOString().replace(/\..*/, '');

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The p-th percentile of an ascending list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const f0 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(0));
export const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));

/** `name  value` rows with the names padded to one width. */
export function alignedRows(rows: Array<[string, string]>, indent = '  '): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${indent}${name.padEnd(width)}  ${value}`);
}

/** A Markdown table with right-aligned, padded cells. */
export function markdownTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}
