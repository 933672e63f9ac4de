/**
 * Dependency-free bar charts: SVG drawn by hand, turned into PNG by `rsvg-convert`
 * (Debian: apt-get install librsvg2-bin) when it is installed; otherwise only the SVG is written.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface Bar {
  label: string;
  value: number;
  color: string;
}

export interface Group {
  label: string;
  bars: Bar[];
  /** Horizontal target lines drawn across this group. */
  targets?: Array<{ value: number; label: string }>;
}

export interface Panel {
  title: string;
  groups: Group[];
}

const W = 420;
const H = 360;
const PAD = { top: 48, right: 16, bottom: 64, left: 64 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(p: Panel, x0: number): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const values = p.groups.flatMap((g) => [...g.bars.map((b) => b.value), ...(g.targets ?? []).map((t) => t.value)]).filter(Number.isFinite);
  const max = niceMax(Math.max(...values, 0) * 1.08);
  const y = (v: number): number => PAD.top + plotH - (Math.max(0, v) / max) * plotH;
  const out: string[] = [`<g transform="translate(${x0},0)">`];
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  const groupW = plotW / p.groups.length;
  p.groups.forEach((g, gi) => {
    const gx = PAD.left + gi * groupW;
    const barW = (groupW * 0.8) / g.bars.length;
    g.bars.forEach((b, bi) => {
      const bx = gx + groupW * 0.1 + bi * barW;
      const top = Number.isFinite(b.value) ? y(b.value) : y(0);
      out.push(`<rect x="${bx + 2}" y="${top}" width="${barW - 4}" height="${PAD.top + plotH - top}" fill="${b.color}"/>`);
      out.push(`<text x="${bx + barW / 2}" y="${top - 4}" text-anchor="middle" font-size="10">${fmt(b.value)}</text>`);
      out.push(`<text x="${bx + barW / 2}" y="${PAD.top + plotH + 12}" text-anchor="end" font-size="10" transform="rotate(-30 ${bx + barW / 2} ${PAD.top + plotH + 12})">${esc(b.label)}</text>`);
    });
    for (const t of g.targets ?? []) {
      if (!Number.isFinite(t.value)) continue;
      out.push(`<line x1="${gx + 4}" x2="${gx + groupW - 4}" y1="${y(t.value)}" y2="${y(t.value)}" stroke="#d62728" stroke-width="2" stroke-dasharray="6 3"/>`);
      out.push(`<text x="${gx + groupW - 6}" y="${y(t.value) - 4}" text-anchor="end" font-size="10" fill="#d62728">${esc(t.label)}</text>`);
    }
    out.push(`<text x="${gx + groupW / 2}" y="${H - 8}" text-anchor="middle" font-size="12" font-weight="bold">${esc(g.label)}</text>`);
  });
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#333"/>`);
  out.push('</g>');
  return out.join('\n');
}

export function renderSvg(title: string, subtitle: string, panels: Panel[]): string {
  const width = W * panels.length;
  const height = H + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="20" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="12" y="38" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    `<g transform="translate(0,40)">`,
    ...panels.map((p, i) => panel(p, i * W)),
    '</g>',
    '</svg>',
  ].join('\n');
}

/** Writes `<base>.svg` and, if rsvg-convert is available, `<base>.png`; returns the PNG path or null. */
export function writeChart(base: string, svg: string): string | null {
  writeFileSync(`${base}.svg`, svg);
  try {
    execFileSync('rsvg-convert', ['-f', 'png', '-o', `${base}.png`, `${base}.svg`], { stdio: 'pipe' });
    return `${base}.png`;
  } catch {
    return null;
  }
}
