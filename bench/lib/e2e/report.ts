/** The e2e bench's report: the results table, the ratios against the baseline and the signing ceiling, and the chart. */
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ProfileSummary } from '../../profile-summary';
import { renderSvg, writeChart, type Bar, type Group, type Panel } from '../chart';
import { f0, f3, markdownTable, RESULTS } from '../report';
import type { SigningCeiling } from '../signing-ceiling';
import type { RunResult } from './result';
import type { E2eOptions } from './run';

export const CPU_OVERHEAD_BUDGET_MS = 0.35;

export interface LatencyReport {
  latencyMs: number;
  worker: RunResult;
  workerPaced?: RunResult;
  baseline?: RunResult;
  baselinePaced?: RunResult;
  /** The --compare-ref worker, saturated. */
  reference?: RunResult & { ref: string };
  /** --compare-tracing: this tree with OpenTelemetry exporting to a local sink. */
  traced?: RunResult & { ref: string };
  profile?: { file: string; summary: ProfileSummary };
}

export interface Verdict {
  name: string;
  value: number;
  target: number;
  unit: string;
  pass: boolean;
  note: string;
}

const HEAD = [
  'L ms',
  'process',
  'captures/s',
  'from start',
  'done',
  'p50 ms',
  'p99 ms',
  'p99 visible',
  'paced at/s',
  'CPU ms/cap',
  'main thr',
  'other thr',
  'CPU %',
  'peak RSS MB',
  'sandbox ms/cap',
  'broker ms/cap',
  'machine busy %',
  'steal %',
];

export function table(reports: LatencyReport[], ceiling: SigningCeiling): string[] {
  const rows: string[][] = [];
  for (const r of reports) {
    for (const [name, sat, paced] of [
      ['worker', r.worker, r.workerPaced],
      ['baseline', r.baseline, r.baselinePaced],
    ] as const) {
      if (!sat) continue;
      rows.push([
        String(r.latencyMs),
        name,
        f0(sat.throughput),
        f0(sat.throughputFromStart) + (sat.capped ? '*' : ''),
        `${sat.completed}/${sat.requested}`,
        f0(paced?.latency.p50),
        f0(paced?.latency.p99),
        f0(paced?.latency.visibleP99),
        f0(paced?.pacedRate),
        f3(sat.cpuMsPerCapture),
        f3(sat.mainThreadCpuMsPerCapture),
        f3(sat.otherThreadsCpuMsPerCapture),
        f0(sat.cpuUtilization * 100),
        f0(Math.max(sat.peakRssMb, paced?.peakRssMb ?? 0)),
        f3(sat.sandboxCpuMsPerCapture),
        f3(sat.brokerCpuMsPerCapture),
        f0(sat.machineBusyPct),
        f0(sat.machineStealPct),
      ]);
    }
  }
  rows.push(['', 'signing ceiling', f0(ceiling.signsPerSec), '', '', '', '', '', '', f3(ceiling.cpuMsPerSign), '', '', '', '', '', '', '', '']);
  return markdownTable(HEAD, rows);
}

/** Worker over baseline, both ways: first outcome to last, and from the first request sent to the last outcome. */
function baselineRatios(r: LatencyReport): Verdict[] {
  if (!r.baseline) return [];
  const scored = r.latencyMs >= 100;
  const ratio = r.worker.throughput / r.baseline.throughput;
  return [
    {
      name: `L=${r.latencyMs}: worker / baseline throughput, first outcome to last`,
      value: ratio,
      target: scored ? 15 : NaN,
      unit: '×',
      pass: scored ? ratio >= 15 : true,
      note: scored ? '' : ' (informational)',
    },
    {
      name: `L=${r.latencyMs}: worker / baseline throughput, from the first request sent to the last outcome`,
      value: r.worker.throughputFromStart / r.baseline.throughputFromStart,
      target: NaN,
      unit: '×',
      pass: true,
      note: '',
    },
  ];
}

/** What the whole machine spends per capture, and what the worker could do with the machine to itself. */
function machineContext(r: LatencyReport, ceiling: SigningCeiling): Verdict[] {
  const w = r.worker;
  const machineMs = w.cpuMsPerCapture + w.sandboxCpuMsPerCapture + (Number.isFinite(w.brokerCpuMsPerCapture) ? w.brokerCpuMsPerCapture : 0) + w.benchCpuMsPerCapture;
  const machineCap = (cpus().length * 1000) / machineMs;
  const alone = (ceiling.signsPerSec * ceiling.cpuMsPerSign) / w.cpuMsPerCapture;
  return [
    {
      name: `L=${r.latencyMs}: machine CPU per capture (worker ${w.cpuMsPerCapture.toFixed(2)} + sandbox ${w.sandboxCpuMsPerCapture.toFixed(2)} + broker ${w.brokerCpuMsPerCapture.toFixed(2)} + bench ${w.benchCpuMsPerCapture.toFixed(2)} ms) caps this machine at ${machineCap.toFixed(0)}/s${r.baseline ? ` = ${(machineCap / r.baseline.throughput).toFixed(1)}× baseline` : ''}; the worker reached (from start, the same window as the CPU)`,
      value: (100 * w.throughputFromStart) / machineCap,
      target: NaN,
      unit: '% of that cap',
      pass: true,
      note: '',
    },
    {
      name: `L=${r.latencyMs}: worker alone on this machine (ceiling × sign CPU / worker CPU per capture) ≈ ${alone.toFixed(0)}/s, as a share of the ceiling`,
      value: (100 * alone) / ceiling.signsPerSec,
      target: NaN,
      unit: '% of signing ceiling',
      pass: true,
      note: '',
    },
  ];
}

/** The targets are for the default configuration (the report says when a run differs from it). */
export function verdicts(reports: LatencyReport[], ceiling: SigningCeiling): Verdict[] {
  const out: Verdict[] = [];
  const cpuTarget = ceiling.cpuMsPerSign + CPU_OVERHEAD_BUDGET_MS;
  for (const r of reports) {
    out.push(...baselineRatios(r));
    const share = r.worker.throughput / ceiling.signsPerSec;
    out.push({
      name: `L=${r.latencyMs}: worker / signing ceiling`,
      value: share * 100,
      target: r.latencyMs === 0 ? 80 : NaN,
      unit: '%',
      pass: r.latencyMs === 0 ? share >= 0.8 : true,
      note: `(from start: ${((100 * r.worker.throughputFromStart) / ceiling.signsPerSec).toFixed(1)}%)` + (r.latencyMs === 0 ? '' : ' (informational)'),
    });
    out.push({
      name: `L=${r.latencyMs}: worker CPU ms/capture vs signing ${ceiling.cpuMsPerSign.toFixed(3)} + ${CPU_OVERHEAD_BUDGET_MS}`,
      value: r.worker.cpuMsPerCapture,
      target: cpuTarget,
      unit: 'ms',
      pass: r.worker.cpuMsPerCapture <= cpuTarget,
      note: '',
    });
    out.push(...machineContext(r, ceiling));
  }
  return out;
}

export function verdictLine(x: Verdict): string {
  const target = Number.isFinite(x.target) ? ` (target ${x.unit === 'ms' ? '≤' : '≥'} ${x.unit === 'ms' ? x.target.toFixed(3) : x.target}${x.unit})` : '';
  const status = Number.isFinite(x.target) ? (x.pass ? 'PASS' : 'MISS') : '    ';
  const unit = x.unit.length > 2 ? ` ${x.unit}` : x.unit;
  return `  ${status}  ${x.name}: ${x.unit === 'ms' ? x.value.toFixed(3) : x.value.toFixed(1)}${unit}${target}${x.note ? ` ${x.note.trim()}` : ''}`;
}

const COLORS = { worker: '#1f77b4', workerLight: '#aec7e8', baseline: '#ff7f0e', baselineLight: '#ffbb78', sign: '#7f7f7f' };

function panels(reports: LatencyReport[], ceiling: SigningCeiling, o: E2eOptions): Panel[] {
  const c = COLORS;
  // Worker and baseline side by side at each latency, with the signing reference as a third bar.
  const sideBySide = (title: string, metric: (x: RunResult) => number, reference: Bar, targets: (r: LatencyReport) => Group['targets']): Panel => ({
    title,
    groups: reports.map((r) => ({
      label: `L=${r.latencyMs} ms`,
      bars: [{ label: 'worker', value: metric(r.worker), color: c.worker }, ...(r.baseline ? [{ label: 'baseline', value: metric(r.baseline), color: c.baseline }] : []), reference],
      targets: targets(r),
    })),
  });
  const throughput = sideBySide(
    'Throughput (captures/s)',
    (x) => x.throughput,
    { label: 'sign ceiling', value: ceiling.signsPerSec, color: c.sign },
    (r) => (r.latencyMs === 0 ? [{ value: ceiling.signsPerSec * 0.8, label: '80% ceiling' }] : r.baseline && r.latencyMs >= 100 ? [{ value: r.baseline.throughput * 15, label: '15× baseline' }] : []),
  );
  const cpu = sideBySide(
    'CPU ms per capture',
    (x) => x.cpuMsPerCapture,
    { label: 'one signature', value: ceiling.cpuMsPerSign, color: c.sign },
    () => [{ value: ceiling.cpuMsPerSign + CPU_OVERHEAD_BUDGET_MS, label: 'sign + 0.35' }],
  );
  const latency: Panel = {
    title: `E2E latency p50 / p99 (ms, at ${o.pacedLoad * 100}% load)`,
    groups: reports
      .filter((r) => r.workerPaced)
      .map((r) => ({
        label: `L=${r.latencyMs} ms`,
        bars: [
          { label: 'worker p50', value: r.workerPaced!.latency.p50, color: c.worker },
          { label: 'worker p99', value: r.workerPaced!.latency.p99, color: c.workerLight },
          ...(r.baselinePaced
            ? [
                { label: 'baseline p50', value: r.baselinePaced.latency.p50, color: c.baseline },
                { label: 'baseline p99', value: r.baselinePaced.latency.p99, color: c.baselineLight },
              ]
            : []),
        ],
      })),
  };
  return [throughput, cpu, latency].filter((p) => p.groups.length > 0);
}

/** `settings`: how the run was configured, for the chart's title. */
export function chart(reports: LatencyReport[], ceiling: SigningCeiling, o: E2eOptions, settings: string, stamp: string): string | null {
  const svg = renderSvg(
    `capture-worker vs plain KafkaJS eachMessage — ${settings}`,
    `${stamp} · ${cpus().length} cores · node ${process.version}${reports.some((r) => r.baseline?.capped) ? ` · baseline capped at ${o.baselineSeconds}s (its throughput extrapolated)` : ''}`,
    panels(reports, ceiling, o),
  );
  return writeChart(join(RESULTS, 'e2e-latest'), svg);
}
