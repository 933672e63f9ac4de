/**
 * The chart's alert rules and dashboard against a real Prometheus scraping a running worker:
 * every rule group loads and evaluates without error, and every dashboard panel's query is valid
 * and reads only metrics (and labels) the worker exports. Needs the prometheus binary (Debian's
 * `prometheus` package; .ci/run installs it); without it the test fails and says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkerMetrics } from '../../../src/observability/metrics';
import { exportedNames, parseExposition, promqlNames, type Exposition } from '../../support/promql-selectors';
import { request, WorkerHarness } from '../../support/worker-harness';
import { sleep } from '../../../src/util/sleep';

const ROOT = resolve(__dirname, '../../..');
const ALERTS = join(ROOT, 'helm/capture-worker/files/alerts.yaml');
const DASHBOARD = join(ROOT, 'helm/capture-worker/files/dashboard.json');
const RUNBOOK = join(ROOT, 'docs/runbook.md');
/** Labels Prometheus (and, in Kubernetes, the ServiceMonitor) puts on every scraped series; the test's scrape config sets the same. */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', '__name__'];
/** Grafana's built-in interval variables, as the test substitutes them. */
const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '1m', __range: '5m', __range_s: '300', __interval_ms: '60000' };

function prometheusBinary(): string {
  const candidates = [process.env.PROMETHEUS_BIN, (spawnSync('sh', ['-c', 'command -v prometheus']).stdout as Buffer | null)?.toString().trim(), '/usr/bin/prometheus'];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) {
    throw new Error(
      "prometheus is not installed: this test runs a real Prometheus. Install it with `apt-get update && apt-get install -y prometheus` (Debian's package; .ci/run does this), or set PROMETHEUS_BIN",
    );
  }
  return found;
}

/** Not exited yet (read at call time: the child may exit between two reads). */
function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${detail()}`);
    await sleep(250);
  }
}

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Grafana's variables replaced: built-in intervals by durations, the dashboard's own (namespace, job, pod...) by `.*`. */
function substitute(expr: string, templateVars: Set<string>): { query: string; unknown: string[] } {
  const unknown: string[] = [];
  const query = expr.replace(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (name in BUILTINS) return BUILTINS[name];
    if (templateVars.has(name)) return '.*';
    unknown.push(name);
    return `$${name}`;
  });
  return { query, unknown };
}

describe('alerts and dashboard against a real Prometheus scraping a running worker', () => {
  const h = new WorkerHarness('prom', 2);
  // The worker's metric definitions, for the label names of a family that has no sample yet.
  const definitions = new WorkerMetrics().registry;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let dir: string | undefined;
  let api = '';
  let exposition: Exposition;
  let exported: Set<string>;

  /** Label names a selector of `metric` may use: those on its scraped samples (or, for a family with none yet, its definition) plus the target's. */
  function labelsOf(metric: string): Set<string> {
    const seen = exposition.samples.get(metric);
    const family = metric.replace(/_(bucket|sum|count)$/, '');
    const defined = (definitions.getSingleMetric(metric) ?? definitions.getSingleMetric(family)) as unknown as { labelNames?: string[] } | undefined;
    const labels = new Set([...TARGET_LABELS, ...(seen ?? []), ...(defined?.labelNames ?? [])]);
    if (metric.endsWith('_bucket')) labels.add('le');
    return labels;
  }

  /** Problems with the names an expression reads: unknown metrics, labels no metric of the expression has. */
  function nameProblems(expr: string): string[] {
    const { selectors, groupingLabels } = promqlNames(expr);
    const problems: string[] = [];
    const available = new Set<string>(TARGET_LABELS);
    for (const s of selectors) {
      if (s.metric === undefined) {
        problems.push(`a selector without a metric name ({${s.labels.join(', ')}}) cannot be checked`);
        continue;
      }
      if (s.metric !== 'up' && !exported.has(s.metric)) {
        problems.push(`metric ${s.metric} is not exported by the worker`);
        continue;
      }
      const labels = s.metric === 'up' ? new Set(TARGET_LABELS) : labelsOf(s.metric);
      for (const l of labels) available.add(l);
      for (const l of s.labels) if (!labels.has(l)) problems.push(`label ${l} is not a label of ${s.metric}`);
    }
    for (const l of groupingLabels) if (!available.has(l)) problems.push(`grouping label ${l} is on none of the expression's metrics`);
    return problems;
  }

  async function get(path: string): Promise<{ status: string; data: unknown; error?: string; errorType?: string }> {
    const response = await fetch(`${api}${path}`);
    return (await response.json()) as { status: string; data: unknown; error?: string };
  }

  beforeAll(async () => {
    // First, so a machine without Prometheus fails at once with the message saying what to install.
    const binary = prometheusBinary();
    await h.setup();
    const worker = await h.startWorker();
    const metricsUrl = `http://127.0.0.1:${worker.healthPort}/metrics`;
    // A success, a failure, an unknown then retried, and an undecodable record: the labelled counters exist.
    await h.produce([
      { key: 'prom-ok', value: request('pay-1') },
      { key: 'prom-risk', value: request('fail-RISK_REJECT-1') },
      { key: 'prom-unknown', value: request('unknown-1-a') },
      { key: 'prom-dlq', value: Buffer.from('not avro') },
    ]);
    await h.outcomes((all) => all.filter((o) => o.topic !== 'unknown').length >= 3, 30_000);
    await h.dlq(1, 30_000);
    // The lag reporter samples every 10 s: wait for its first sample.
    const text = await until(
      'the worker to export capture_consumer_lag and capture_dlq_total',
      async () => {
        const body = await (await fetch(metricsUrl)).text();
        return /^capture_consumer_lag\{/m.test(body) && /^capture_dlq_total\{/m.test(body) ? body : undefined;
      },
      20_000,
    );
    exposition = parseExposition(text);
    exported = exportedNames(exposition);

    dir = mkdtempSync(join(tmpdir(), 'capture-worker-prometheus-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(ALERTS)}`,
        'scrape_configs:',
        // The job name the chart's rules select by default (job="capture-worker"); namespace and pod as a ServiceMonitor adds them.
        '  - job_name: capture-worker',
        '    static_configs:',
        `      - targets: ["127.0.0.1:${worker.healthPort}"]`,
        '        labels: {namespace: "prom-test", pod: "capture-worker-0"}',
        '',
      ].join('\n'),
    );
    prometheus = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus.stdout!.on('data', (d: Buffer) => void (prometheusLog += d.toString()));
    prometheus.stderr!.on('data', (d: Buffer) => void (prometheusLog += d.toString()));
    const exited = new Promise<string>((ok) => prometheus!.once('exit', (code, signal) => ok(`prometheus exited (${code ?? signal ?? 'unknown'}):\n${prometheusLog}`)));
    const log = () => `\n${prometheusLog.slice(-2000)}`;
    await Promise.race([
      until('Prometheus to be ready', async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), 15_000, log),
      exited.then((message) => Promise.reject(new Error(message))),
    ]);
    // Two scrapes at least, so rate() over the dashboard's windows has samples to work on.
    await until(
      'two scrapes of the worker',
      async () => {
        const r = await get('/api/v1/query?query=' + encodeURIComponent('count_over_time(up{job="capture-worker"}[1m]) >= 2 and up{job="capture-worker"} == 1'));
        return (r.data as { result: unknown[] }).result.length === 1 ? true : undefined;
      },
      15_000,
      log,
    );
  });

  afterAll(async () => {
    if (prometheus && running(prometheus)) {
      const exited = new Promise((ok) => prometheus!.once('exit', ok));
      prometheus.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (running(prometheus)) prometheus.kill('SIGKILL');
    }
    await h.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads every rule group of the chart and evaluates every rule without error', async () => {
    const fileGroups = [...readFileSync(ALERTS, 'utf8').matchAll(/^ {2}- name: (\S+)/gm)].map((m) => m[1]);
    expect(fileGroups.length).toBeGreaterThan(0);
    type Rule = { name: string; query: string; health: string; lastError?: string; type: string };
    type Group = { name: string; file: string; rules: Rule[] };
    // health is "unknown" until a rule's first evaluation (every second here).
    const groups = await until(
      'every rule to be evaluated',
      async () => {
        const r = await get('/api/v1/rules');
        const gs = (r.data as { groups: Group[] }).groups;
        return gs.length === fileGroups.length && gs.every((g) => g.rules.every((rule) => rule.health !== 'unknown')) ? gs : undefined;
      },
      15_000,
    );
    expect(groups.map((g) => g.name).sort()).toEqual([...fileGroups].sort());
    const unhealthy = groups.flatMap((g) => g.rules.filter((rule) => rule.health !== 'ok').map((rule) => `${g.name}/${rule.name}: ${rule.health} ${rule.lastError ?? ''}`));
    expect(unhealthy).toEqual([]);
    // A rule reading a metric the worker does not export would load fine and never fire.
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.filter((rule) => rule.type === 'alerting')).toHaveLength(10);
    const problems = rules.flatMap((rule) => nameProblems(rule.query).map((p) => `${rule.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('runs every dashboard panel query: valid, and reading only metrics and labels the worker exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> } };
    const templateVars = new Set(dashboard.templating.list.map((v) => v.name));
    const queries: Array<{ where: string; expr: string }> = [];
    for (const panel of allPanels(dashboard.panels)) {
      if (panel.type === 'row') continue;
      expect({ panel: panel.title, targets: (panel.targets ?? []).length > 0 }).toEqual({ panel: panel.title, targets: true });
      for (const t of panel.targets ?? []) queries.push({ where: `panel "${panel.title ?? ''}" ${t.refId ?? ''}`, expr: t.expr ?? '' });
    }
    // The variables' own queries (label_values(metric{...}, label)) read metrics too.
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.definition ?? '');
      expect({ variable: v.name, definition: v.definition, parsed: !!m }).toEqual({ variable: v.name, definition: v.definition, parsed: true });
      queries.push({ where: `variable $${v.name}`, expr: `count by (${m![2]}) (${m![1]})` });
    }
    expect(queries.length).toBeGreaterThan(30);

    const problems: string[] = [];
    let withData = 0;
    for (const { where, expr } of queries) {
      const { query, unknown } = substitute(expr, templateVars);
      if (!query.trim()) problems.push(`${where}: empty query`);
      for (const name of unknown) problems.push(`${where}: $${name} is not a variable of the dashboard`);
      const r = await get('/api/v1/query?query=' + encodeURIComponent(query));
      if (r.status !== 'success') problems.push(`${where}: ${r.errorType ?? ''}: ${r.error ?? ''} in ${query}`);
      else if ((r.data as { result: unknown[] }).result.length > 0) withData++;
      for (const p of nameProblems(query)) problems.push(`${where}: ${p}`);
    }
    expect(problems).toEqual([]);
    // Most panels show data after a few requests; the rest (final unknowns, refusals...) need events this test does not cause.
    expect(withData).toBeGreaterThan(queries.length / 2);
  });

  it("documents every metric the worker exports in the runbook's metrics reference", () => {
    const runbook = readFileSync(RUNBOOK, 'utf8');
    const documented = new Set([...runbook.matchAll(/^\| `(capture_[a-z_:]+)` \| (?:counter|gauge|histogram|summary) \|/gm)].map((m) => m[1]));
    const families = [...exposition.types.keys()].filter((name) => name.startsWith('capture_'));
    expect(families.length).toBeGreaterThan(20);
    expect(families.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !families.includes(name))).toEqual([]);
  });
});
