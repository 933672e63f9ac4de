/** The worker's /metrics, read by the benches: one parser of the Prometheus text format. */

export interface MetricSample {
  /** The label set as written, e.g. `{state="open"}`; '' when there is none. */
  labels: string;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/;

export class Metrics {
  private readonly byName = new Map<string, MetricSample[]>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      const m = SAMPLE.exec(line);
      if (!m) continue; // comments (# HELP, # TYPE) and blank lines
      const list = this.byName.get(m[1]) ?? [];
      list.push({ labels: m.at(2) ?? '', value: Number(m[3]) });
      this.byName.set(m[1], list);
    }
  }

  /** The sum over every label set of `name`; undefined when the worker does not export it. */
  sum(name: string): number | undefined {
    const samples = this.byName.get(name);
    return samples ? samples.reduce((total, s) => total + s.value, 0) : undefined;
  }

  /** The value of `label` in the first sample of `name` whose value is `value` (a state gauge's current state). */
  labelWhere(name: string, label: string, value: number): string | undefined {
    const sample = this.byName.get(name)?.find((s) => s.value === value);
    return sample && new RegExp(`${label}="([^"]*)"`).exec(sample.labels)?.[1];
  }
}

/** The worker's metrics on its health port; null when it does not answer in time. */
export async function scrapeMetrics(port: number, timeoutMs = 900): Promise<Metrics | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? new Metrics(await res.text()) : null;
  } catch {
    return null;
  }
}
