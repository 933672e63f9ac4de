/**
 * Bad-input campaign: many kinds of bad records mixed into a stream of good ones.
 * Pass: the worker never crashes, every bad record ends in the DLQ or as a PARAM_ILLEGAL failed
 * outcome (as its kind expects), every good record succeeds, and good-record throughput in the
 * mixed runs is within 10% of the clean runs measured alternately in the same invocation.
 *
 *   npx tsx bench/bad-input.ts [--good 5000] [--bad-every 10] [--rounds 2] [--partitions 12]
 *                              [--inflight 1000] [--latency 100] [--warmup 1000] [--no-probe] [--verbose]
 *
 * Each round is a clean run then a mixed run (then one last clean run), each on fresh topics and
 * a fresh worker process (compiled JS), sandbox in its own process. In a mixed run one bad
 * record follows every `bad-every` good ones, cycling through the kinds below.
 * Two probes run separately (1000 good records each), with a supervisor that restarts the worker
 * like Kubernetes would (twice), because a record whose outcome cannot be published stops a run:
 *   one near-limit record: a valid request whose value is just under the broker's 1 MB limit;
 *   30 kB metadata on every record: valid, modest records that only together exceed 1 MB per
 *   partition in one of the worker's transactions.
 * The probes report; they are not part of the pass/fail of the mixed runs.
 * Where every record ended up is read after each run to the end offsets of the outcome topics and the DLQ.
 * Results: bench/results/bad-input-latest.json.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KINDS } from './lib/bad-input/kinds';
import { Campaign, type BadInputOptions, type KindResult, type RunReport } from './lib/bad-input/run';
import { build } from './lib/build';
import { benchArgs, stringOptions, log, nonNegative } from './lib/cli';
import { runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { stampNow, writeResult } from './lib/report';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess } from './lib/setup';

function parseOptions(): BadInputOptions | undefined {
  const values = benchArgs(__filename, {
    ...stringOptions({ good: '5000', 'bad-every': '10', rounds: '2', partitions: '12', inflight: '1000', latency: '100', warmup: '1000', 'max-seconds': '120' }),
    'no-probe': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  });
  if (!values) return undefined;
  return {
    good: nonNegative('good', values.good),
    badEvery: nonNegative('bad-every', values['bad-every']),
    rounds: nonNegative('rounds', values.rounds),
    partitions: nonNegative('partitions', values.partitions),
    inflight: nonNegative('inflight', values.inflight),
    latency: nonNegative('latency', values.latency),
    warmup: nonNegative('warmup', values.warmup),
    maxSeconds: nonNegative('max-seconds', values['max-seconds']),
    probe: !values['no-probe'],
    verbose: values.verbose,
  };
}

/** The kinds over all mixed runs, summed. */
function mergeKinds(mixed: RunReport[]): KindResult[] {
  const merged = new Map<string, KindResult>();
  for (const r of mixed.flatMap((m) => m.kinds)) {
    const m = merged.get(r.kind) ?? { ...r, sent: 0, asExpected: 0, elsewhere: {}, missing: 0 };
    m.sent += r.sent;
    m.asExpected += r.asExpected;
    m.missing += r.missing;
    for (const [k, v] of Object.entries(r.elsewhere)) m.elsewhere[k] = (m.elsewhere[k] ?? 0) + v;
    merged.set(r.kind, m);
  }
  return [...merged.values()];
}

function kindLines(kinds: KindResult[]): string[] {
  const lines = ['\nbad records, by kind (all mixed runs)', '| kind | expected | sent | as expected | elsewhere | missing |', '|---|---|---|---|---|---|'];
  for (const k of kinds) {
    const reason = KINDS.find((x) => x.name === k.kind)?.reason;
    const elsewhere = Object.entries(k.elsewhere).map(([a, b]) => `${a}: ${b}`);
    lines.push(`| ${k.kind} | ${k.expect}${reason ? ` ${reason}` : ''} | ${k.sent} | ${k.asExpected} | ${elsewhere.join(', ') || '–'} | ${k.missing} |`);
  }
  return lines;
}

function verdicts(runs: RunReport[], probes: RunReport[], kinds: KindResult[], ratio: number): Array<{ name: string; pass: boolean }> {
  const clean = runs.filter((r) => r.mode === 'clean');
  const mixed = runs.filter((r) => r.mode === 'mixed');
  const out = [
    { name: 'no worker crash in clean or mixed runs', pass: mixed.every((r) => !r.crashed) && clean.every((r) => !r.crashed) },
    { name: 'every bad record routed as its kind expects (DLQ reason / PARAM_ILLEGAL)', pass: kinds.every((k) => k.asExpected === k.sent) },
    { name: 'every good record in the mixed runs succeeded', pass: mixed.every((r) => r.goodSucceeded === r.good) },
    { name: `good-record throughput mixed / clean = ${(ratio * 100).toFixed(1)}% (target ≥ 90%)`, pass: ratio >= 0.9 },
  ];
  for (const probe of probes) {
    const k = probe.kinds.at(0);
    out.push({
      name: `${probe.mode}: ${k ? `${k.asExpected} to the DLQ, ${JSON.stringify(k.elsewhere)}, ${k.missing} without any disposition; ` : ''}worker exits ${probe.workerExits.length}; good ${probe.goodSucceeded}/${probe.good} succeeded`,
      pass: !probe.crashed && probe.finished,
    });
  }
  return out;
}

async function main(): Promise<number> {
  const o = parseOptions();
  if (!o) return 0;
  stopChildrenOnExit();
  const stamp = stampNow();
  const stack = await ensureStack();
  log(`bad-input campaign · ${KINDS.length} kinds, 1 bad per ${o.badEvery} good · ${o.good} good per run · K=${o.partitions} · M=${o.inflight} · L=${o.latency} ms · ${gitDescribe()}`);
  const entry = build();
  const dir = mkdtempSync(join(tmpdir(), 'bench-badinput-'));
  let campaign: Campaign | undefined;
  try {
    const keys = await makeKeys(dir);
    const sandbox = await startSandboxProcess(entry, keys, o.latency, o.verbose);
    campaign = new Campaign(o, stack, entry, keys, sandbox.url);
    const runs: RunReport[] = [];
    for (let round = 0; round < o.rounds; round++) runs.push(await campaign.run('clean'), await campaign.run('mixed'));
    runs.push(await campaign.run('clean'));
    const probes = o.probe ? [await campaign.run('probe: one near-limit record', 2), await campaign.run('probe: 30 kB metadata on every record', 2)] : [];
    await sandbox.proc.stop();

    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cleanRate = mean(runs.filter((r) => r.mode === 'clean').map((r) => r.goodThroughput));
    const mixedRate = mean(runs.filter((r) => r.mode === 'mixed').map((r) => r.goodThroughput));
    const ratio = mixedRate / cleanRate;
    const kinds = mergeKinds(runs.filter((r) => r.mode === 'mixed'));
    for (const line of kindLines(kinds)) log(line);
    log('\nruns');
    for (const r of [...runs, ...probes]) {
      log(`  ${r.mode.padEnd(16)} good ${r.goodSucceeded}/${r.good} at ${r.goodThroughput.toFixed(0)}/s, bad ${r.bad}, worker exits ${r.workerExits.length}${r.finished ? '' : ', DID NOT FINISH'}`);
    }
    const v = verdicts(runs, probes, kinds, ratio);
    log('\nverdicts');
    for (const x of v) log(`  ${x.pass ? 'PASS' : 'FAIL'}  ${x.name}`);
    for (const probe of probes) {
      const fatal = probe.workerExits[0]?.lastLines.split('\n').find((l) => l.includes('"level":"fatal"'));
      if (fatal) log(`\n${probe.mode} — the worker's fatal log line:\n${fatal.slice(0, 600)}`);
    }
    const written = writeResult('bad-input-latest.json', { stamp, commit: gitDescribe(), options: o, kinds, runs, probes, cleanRate, mixedRate, ratio, verdicts: v });
    log(`\nwrote ${written}`);
    return v.every((x) => x.pass) ? 0 : 1;
  } finally {
    await stopAll();
    await campaign?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

// A failure of the campaign itself exits 1, like a missed verdict (as it always has).
runMain(main, 'bad-input campaign', 1);
