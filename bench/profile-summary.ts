/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function, self time by
 * package / file, and inclusive time of the heaviest frames. Only the main JS thread is sampled:
 * async crypto (sign/verify on the libuv threadpool) does not appear here.
 * Run: npx tsx bench/profile-summary.ts FILE.cpuprofile [top N, default 25]
 */
import { readFileSync } from 'node:fs';
import { printedUsage } from './lib/cli';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  selfByFunction: Array<{ name: string; ms: number; pct: number }>;
  selfByPackage: Array<{ name: string; ms: number; pct: number }>;
  inclusive: Array<{ name: string; ms: number; pct: number }>;
}

const IDLE = new Set(['(idle)', '(program)']);

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.search(/\/(src|bench)\//);
  if (src >= 0) return url.slice(src + 1).replace(/^bench\/\.build\//, '');
  return url.replace(/^file:\/\//, '');
}

function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / builtin)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:') || !url.includes('/')) return 'node core';
  return shortUrl(url).replace(/\.build\//, '');
}

function label(frame: CallFrame): string {
  const where = shortUrl(frame.url);
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
}

export function summarize(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    total += us;
    if (IDLE.has(node.callFrame.functionName)) return;
    busy += us;
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const p = packageOf(node.callFrame);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === '(root)') break;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + us);
    }
  });
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / busy }));
  return { totalMs: total / 1000, busyMs: busy / 1000, selfByFunction: rank(self), selfByPackage: rank(pkg), inclusive: rank(incl) };
}

export function formatSummary(s: ProfileSummary, top = 25): string {
  const lines = [`profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy on the main thread (idle/program excluded; threadpool crypto not sampled)`];
  const table = (title: string, rows: ProfileSummary['selfByFunction']) => {
    lines.push(`\n${title}`);
    for (const r of rows.slice(0, top)) lines.push(`${r.ms.toFixed(0).padStart(8)} ms ${r.pct.toFixed(1).padStart(5)}%  ${r.name}`);
  };
  table('self time by function', s.selfByFunction);
  table('self time by package / file', s.selfByPackage);
  table('inclusive time (frame on the stack)', s.inclusive);
  return lines.join('\n');
}

if (require.main === module && !printedUsage(__filename)) {
  const file = process.argv.at(2);
  const n = process.argv.at(3);
  if (!file) {
    console.error('usage: profile-summary FILE.cpuprofile [top]');
    process.exit(2);
  }
  console.log(formatSummary(summarize(file, Number(n ?? 25)), Number(n ?? 25)));
}
