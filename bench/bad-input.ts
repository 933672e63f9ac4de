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
 * Results: bench/results/bad-input-latest.json.
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { printedUsage } from './lib/cli';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { Admin, Consumer, Kafka, Message } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { EventCodec } from '../src/events/event-codec';
import type { CaptureFailed, CaptureRequested } from '../src/events/types.generated';
import { DLQ_HEADERS } from '../src/pipeline/dead-letter';
import { build, ROOT, type Entrypoints } from './lib/build';
import { benchKafka, createTopics, freshTopics, topicList, type BenchTopics } from './lib/kafka';
import { Proc, stopAll, stopChildrenOnExit } from './lib/proc';
import { ensureStack, gitDescribe, makeKeys, startSandboxProcess, workerEnv, type KeyFiles, type Stack } from './lib/setup';

const RESULTS = join(ROOT, 'bench', 'results');
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Where a bad record must end up. */
type Expect = 'DLQ' | 'PARAM_ILLEGAL';

interface BadKind {
  name: string;
  expect: Expect;
  /** The DLQ reason expected, when it goes to the DLQ. */
  reason?: string;
  /** On the retry topic instead of the requested topic. */
  retryTopic?: boolean;
  make(n: number, ctx: Ctx): Message;
}

interface Ctx {
  codec: EventCodec;
  requestedSchemaId: number;
  unrelatedSchemaId: number;
  unreadableSchemaId: number;
  succeededSchemaId: number;
}

const request = (paymentId: string, value = '100', currency = 'USD', metadata: Record<string, string> = {}): CaptureRequested => ({
  paymentId,
  captureAmount: { currency, value },
  requestedAt: Date.now(),
  metadata,
});

const UNRELATED = { type: 'record', name: 'Unrelated', namespace: 'bench.badinput', fields: [{ name: 'x', type: 'int' }] } as const;
// Registries accept it, Avro readers refuse it: a union default must match the union's first branch.
const UNREADABLE = { type: 'record', name: 'Unreadable', namespace: 'bench.badinput', fields: [{ name: 'a', type: ['null', 'string'], default: 'x' }] } as const;

/** Registered over HTTP: the registry library would refuse to parse it before sending. */
async function registerRaw(registryUrl: string, subject: string, schema: object): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`registering ${subject}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

function wire(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

const KINDS: BadKind[] = [
  { name: 'garbage bytes', expect: 'DLQ', reason: 'NOT_CONFLUENT_AVRO', make: (n) => ({ key: `bad-garbage-${n}`, value: Buffer.from(`\xde\xad not avro at all ${n}`, 'latin1') }) },
  { name: 'unknown schema id', expect: 'DLQ', reason: 'UNKNOWN_SCHEMA_ID', make: (n) => ({ key: `bad-unknown-schema-${n}`, value: wire(0x7ffffff0, Buffer.from([2, 4, 6])) }) },
  { name: 'null value (tombstone)', expect: 'DLQ', reason: 'NOT_CONFLUENT_AVRO', make: (n) => ({ key: `bad-null-${n}`, value: null }) },
  {
    name: 'truncated Avro body',
    expect: 'DLQ',
    reason: 'MALFORMED_AVRO',
    make: (n, c) => ({ key: `bad-truncated-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-trunc-${n}`)).subarray(0, 9) }),
  },
  {
    name: 'wrong schema (unrelated record)',
    expect: 'DLQ',
    reason: 'INCOMPATIBLE_SCHEMA',
    make: (n, c) => ({ key: `bad-unrelated-${n}`, value: wire(c.unrelatedSchemaId, avro.Type.forSchema(UNRELATED as unknown as avro.Schema).toBuffer({ x: n })) }),
  },
  {
    name: 'wrong schema (an outcome event)',
    expect: 'DLQ',
    reason: 'INCOMPATIBLE_SCHEMA',
    make: (n, c) => ({
      key: `bad-outcome-event-${n}`,
      value: wire(
        c.succeededSchemaId,
        c.codec.reader('CaptureSucceeded').toBuffer({
          captureRequestId: `x-${n}`,
          paymentId: `pay-x-${n}`,
          captureAmount: { currency: 'USD', value: '100' },
          requestedAt: Date.now(),
          metadata: {},
          result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'ok', local: false },
          attempt: 1,
          firstAttemptAt: Date.now(),
          completedAt: Date.now(),
          captureId: 'c',
          captureTime: 't',
          acquirerReferenceNo: null,
        }),
      ),
    }),
  },
  { name: 'missing key', expect: 'DLQ', reason: 'MISSING_KEY', make: (n, c) => ({ key: null, value: c.codec.encode('CaptureRequested', request(`pay-nokey-${n}`)) }) },
  { name: 'empty key', expect: 'DLQ', reason: 'MISSING_KEY', make: (n, c) => ({ key: '', value: c.codec.encode('CaptureRequested', request(`pay-emptykey-${n}`)) }) },
  {
    name: 'retry record without headers',
    expect: 'DLQ',
    reason: 'BAD_RETRY_HEADERS',
    retryTopic: true,
    make: (n, c) => ({ key: `bad-retry-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-retry-${n}`)) }),
  },
  {
    name: 'key not valid UTF-8',
    expect: 'DLQ',
    reason: 'INVALID_KEY',
    make: (n, c) => ({ key: Buffer.concat([Buffer.from(`bad-utf8-${n}-`), Buffer.from([0xff, 0xfe])]), value: c.codec.encode('CaptureRequested', request(`pay-utf8-${n}`)) }),
  },
  {
    name: 'retry headers out of range',
    expect: 'DLQ',
    reason: 'BAD_RETRY_HEADERS',
    retryTopic: true,
    make: (n, c) => ({
      key: `bad-retry-range-${n}`,
      value: c.codec.encode('CaptureRequested', request(`pay-retry-range-${n}`)),
      headers: { 'capture-attempt': '2147483648', 'capture-due-at': '99999999999999999', 'capture-first-attempt-at': '0' },
    }),
  },
  {
    name: 'value over MAX_RECORD_BYTES (270 kB)',
    expect: 'DLQ',
    reason: 'RECORD_TOO_LARGE',
    make: (n, c) => ({ key: `bad-too-large-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-too-large-${n}`, '100', 'USD', { blob: 'b'.repeat(270_000) })) }),
  },
  {
    name: 'writer schema that cannot be parsed',
    expect: 'DLQ',
    reason: 'UNREADABLE_WRITER_SCHEMA',
    make: (n, c) => ({ key: `bad-unreadable-${n}`, value: wire(c.unreadableSchemaId, Buffer.from([0])) }),
  },
  { name: 'key over 64 chars', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-long-key-${n}-`.padEnd(65, 'k'), value: c.codec.encode('CaptureRequested', request(`pay-longkey-${n}`)) }) },
  { name: 'bad currency', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-currency-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-cur-${n}`, '100', 'usd')) }) },
  { name: 'non-integer amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-fraction-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-frac-${n}`, '10.5')) }) },
  { name: 'negative amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-negative-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-neg-${n}`, '-100')) }) },
  { name: 'zero amount', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-zero-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-zero-${n}`, '0')) }) },
  { name: 'amount over 18 digits', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-huge-amount-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-huge-${n}`, '1'.repeat(19))) }) },
  { name: 'empty payment id', expect: 'PARAM_ILLEGAL', make: (n, c) => ({ key: `bad-empty-payment-${n}`, value: c.codec.encode('CaptureRequested', request('')) }) },
  {
    name: 'oversized payment id (100 kB)',
    expect: 'PARAM_ILLEGAL',
    make: (n, c) => ({ key: `bad-big-payment-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-${n}-`.padEnd(100_000, 'p'))) }),
  },
];

/** A valid request whose value is just under the broker's record limit (message.max.bytes 1048588). */
const NEAR_LIMIT: BadKind = {
  name: 'near-limit record (valid request, ~1 MB metadata)',
  expect: 'DLQ',
  make: (n, c) => ({ key: `bad-near-limit-${n}`, value: c.codec.encode('CaptureRequested', request(`pay-near-limit-${n}`, '100', 'USD', { blob: 'm'.repeat(1_040_000) })) }),
};

interface Seen {
  topic: 'succeeded' | 'failed' | 'unknown' | 'dlq';
  key: string | null;
  resultCode?: string;
  reason?: string;
  kind?: string;
  seenAt: number;
}

/** Reads the outcome topics and the DLQ (read_committed) until stopped. */
class Collector {
  readonly seen: Seen[] = [];
  goodDone = 0;
  goodFirst = 0;
  goodLast = 0;
  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, t: BenchTopics, codec: EventCodec): Promise<Collector> {
    const consumer = kafka.consumer({ groupId: `bench-badinput-collector-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 * 1024 * 1024 });
    const c = new Collector(consumer);
    const role = new Map<string, Seen['topic']>([
      [t.succeeded, 'succeeded'],
      [t.failed, 'failed'],
      [t.unknown, 'unknown'],
      [t.dlq, 'dlq'],
    ]);
    await consumer.connect();
    await consumer.subscribe({ topics: [...role.keys()], fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        const topic = role.get(batch.topic)!;
        for (const m of batch.messages) {
          const key = m.key === null ? null : m.key.toString();
          const s: Seen = { topic, key, seenAt: now };
          if (topic === 'dlq') {
            s.reason = m.headers?.[DLQ_HEADERS.reason]?.toString();
            s.kind = m.headers?.['bench-kind']?.toString();
          } else if (topic === 'failed' && m.value) {
            s.resultCode = (codec.reader('CaptureFailed').fromBuffer(m.value.subarray(5)) as CaptureFailed).result.resultCode;
          }
          c.seen.push(s);
          if (key?.startsWith('good-') && topic === 'succeeded') {
            c.goodDone++;
            if (!c.goodFirst) c.goodFirst = now;
            c.goodLast = now;
          }
        }
      },
    });
    await joined;
    return c;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

interface KindResult {
  kind: string;
  expect: Expect;
  sent: number;
  asExpected: number;
  elsewhere: Record<string, number>;
  missing: number;
}

type Mode = 'clean' | 'mixed' | 'probe: one near-limit record' | 'probe: 30 kB metadata on every record';

interface RunReport {
  mode: Mode;
  good: number;
  goodSucceeded: number;
  goodThroughput: number;
  elapsedSec: number;
  bad: number;
  kinds: KindResult[];
  workerExits: Array<{ code: number | null; lastLines: string }>;
  crashed: boolean;
  finished: boolean;
}

interface Options {
  good: number;
  badEvery: number;
  rounds: number;
  partitions: number;
  inflight: number;
  latency: number;
  warmup: number;
  probe: boolean;
  verbose: boolean;
  maxSeconds: number;
}

class Campaign {
  private readonly kafka: Kafka;
  private readonly codec: EventCodec;
  private readonly created: BenchTopics[] = [];

  constructor(
    private readonly o: Options,
    private readonly stack: Stack,
    private readonly entry: Entrypoints,
    private readonly keys: KeyFiles,
    private readonly sandboxUrl: string,
  ) {
    this.kafka = benchKafka(stack.brokers);
    this.codec = EventCodec.forUrl(stack.registryUrl);
  }

  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  async run(mode: Mode, restarts = 0): Promise<RunReport> {
    const o = this.o;
    const probe = mode.startsWith('probe');
    const t = freshTopics(`bench-badinput-${probe ? 'probe' : mode}`);
    await this.withAdmin((admin) => createTopics(admin, t, o.partitions));
    this.created.push(t);
    const registry = new SchemaRegistry({ host: this.stack.registryUrl });
    const ctx: Ctx = {
      codec: this.codec,
      requestedSchemaId: await this.codec.useSubject('CaptureRequested', t.requested),
      succeededSchemaId: await this.codec.useSubject('CaptureSucceeded', t.succeeded),
      unrelatedSchemaId: (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(UNRELATED) }, { subject: `${t.id}.unrelated-value` })).id,
      unreadableSchemaId: await registerRaw(this.stack.registryUrl, `${t.id}.unreadable-value`, UNREADABLE),
    };
    const collector = await Collector.start(this.kafka, t, this.codec);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const env = workerEnv(this.stack, this.keys, this.sandboxUrl, t, { MAX_IN_FLIGHT: String(o.inflight), API_CONNECTIONS: String(o.inflight) });
    const exits: RunReport['workerExits'] = [];
    let proc: Proc | undefined;
    const startWorker = async (): Promise<Proc> => {
      const p = new Proc(`worker ${mode}`, process.execPath, [...this.entry.worker, 'run'], env, o.verbose);
      await p.waitFor(/partitions assigned/, 60_000);
      return p;
    };
    // Small sends for big records, so this producer's own batches stay under the broker's limit.
    const perSend = mode === 'probe: 30 kB metadata on every record' ? 10 : 500;
    const send = async (topic: string, messages: Message[]): Promise<void> => {
      for (let i = 0; i < messages.length; i += perSend) await producer.send({ topic, messages: messages.slice(i, i + perSend) });
    };
    let seq = 0;
    const good = (count: number, metadata: Record<string, string> = {}): Message[] =>
      Array.from({ length: count }, () => {
        const n = ++seq;
        return { key: `good-${t.id}-${n}`, value: this.codec.encode('CaptureRequested', request(`pay-good-${t.id}-${n}`, '100', 'USD', metadata)) };
      });
    // Valid requests, each far below any limit; together, more than 1 MB per partition in one transaction.
    const bigMetadata: Record<string, string> = mode === 'probe: 30 kB metadata on every record' ? { blob: 'm'.repeat(30_000) } : {};
    try {
      proc = await startWorker();
      // Warm-up with good records only (not measured).
      await send(t.requested, good(o.warmup));
      const warmDeadline = Date.now() + 30_000;
      while (collector.goodDone < o.warmup && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 25));

      const sentByKind = new Map<BadKind, Message[]>();
      const main: Message[] = [];
      const retry: Message[] = [];
      const single: Message[] = [];
      const kinds = mode === 'mixed' ? KINDS : mode === 'probe: one near-limit record' ? [NEAR_LIMIT] : [];
      const goodCount = probe ? Math.min(o.good, 1000) : o.good;
      // One bad record after every `badEvery` good ones (the probe: a single one, in the middle).
      const badAfter = (i: number): boolean => (probe ? i === Math.floor(goodCount / 2) : (i + 1) % o.badEvery === 0);
      let badN = 0;
      for (const [i, g] of good(goodCount, bigMetadata).entries()) {
        main.push(g);
        if (kinds.length > 0 && badAfter(i)) {
          const kind = kinds[badN % kinds.length]!;
          const m = kind.make(++badN, ctx);
          m.headers = { ...m.headers, 'bench-kind': kind.name };
          (kind.retryTopic ? retry : kind === NEAR_LIMIT ? single : main).push(m);
          sentByKind.set(kind, [...(sentByKind.get(kind) ?? []), m]);
        }
      }
      const bad = [...sentByKind.values()].reduce((n, l) => n + l.length, 0);
      const goodBefore = collector.goodDone;
      const seenBefore = collector.seen.length;
      const t0 = Date.now();
      // A near-limit record goes alone: with others in the same batch it would exceed the limit here already.
      const half = Math.floor(main.length / 2);
      await send(t.requested, main.slice(0, half));
      for (const m of single) await producer.send({ topic: t.requested, messages: [m] });
      await send(t.requested, main.slice(half));
      await send(t.retry, retry);

      let lastTick = t0;
      let finished = false;
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        const goodDone = collector.goodDone - goodBefore;
        const badSeen = collector.seen.length - seenBefore - goodDone;
        if (goodDone >= goodCount && badSeen >= bad) {
          finished = true;
          break;
        }
        if (Date.now() - t0 > o.maxSeconds * 1000) break;
        if (!proc.alive) {
          exits.push({ code: proc.child.exitCode, lastLines: proc.tail(3).slice(0, 2000) });
          log(`  worker ${mode} exited (code ${proc.child.exitCode}) — ${exits.length}/${restarts} restarts`);
          if (exits.length > restarts) break;
          proc = await startWorker();
        }
        if (Date.now() - lastTick >= 1000) {
          lastTick = Date.now();
          log(`  ${mode.padEnd(16)} ${((lastTick - t0) / 1000).toFixed(0).padStart(4)}s  good ${goodDone}/${goodCount}  bad dispositions ${badSeen}/${bad}`);
        }
      }
      const elapsedSec = (Date.now() - t0) / 1000;
      // Let stragglers (e.g. duplicates) arrive before judging.
      await new Promise((r) => setTimeout(r, 500));

      const byKey = new Map<string, Seen[]>();
      const dlqByKind = new Map<string, Seen[]>();
      for (const s of collector.seen.slice(seenBefore)) {
        if (s.topic === 'dlq' && s.kind) dlqByKind.set(s.kind, [...(dlqByKind.get(s.kind) ?? []), s]);
        else if (s.key !== null) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
      }
      const kindResults: KindResult[] = [];
      for (const [kind, messages] of sentByKind) {
        const r: KindResult = { kind: kind.name, expect: kind.expect, sent: messages.length, asExpected: 0, elsewhere: {}, missing: 0 };
        const dlq = dlqByKind.get(kind.name) ?? [];
        for (const d of dlq) {
          if (kind.expect === 'DLQ' && (!kind.reason || d.reason === kind.reason)) r.asExpected++;
          else r.elsewhere[`DLQ ${d.reason}`] = (r.elsewhere[`DLQ ${d.reason}`] ?? 0) + 1;
        }
        for (const m of messages) {
          const key = m.key === null || m.key === undefined ? null : m.key.toString();
          if (key === null || key === '') continue; // only the DLQ (by header) can tell these apart
          for (const s of byKey.get(key) ?? []) {
            const label = s.topic === 'failed' ? `failed ${s.resultCode}` : s.topic;
            if (kind.expect === 'PARAM_ILLEGAL' && s.topic === 'failed' && s.resultCode === 'PARAM_ILLEGAL') r.asExpected++;
            else r.elsewhere[label] = (r.elsewhere[label] ?? 0) + 1;
          }
        }
        r.missing = Math.max(0, r.sent - r.asExpected - Object.values(r.elsewhere).reduce((a, b) => a + b, 0));
        kindResults.push(r);
      }
      const goodSucceeded = collector.goodDone - goodBefore;
      const window = (collector.goodLast - Math.max(collector.goodFirst, t0)) / 1000;
      const report: RunReport = {
        mode,
        good: goodCount,
        goodSucceeded,
        goodThroughput: window > 0 ? goodSucceeded / window : NaN,
        elapsedSec,
        bad,
        kinds: kindResults,
        workerExits: exits,
        crashed: exits.length > 0 || !proc.alive,
        finished,
      };
      log(`  ${mode}: good ${goodSucceeded}/${goodCount} succeeded at ${report.goodThroughput.toFixed(0)}/s; bad ${bad}; worker exits ${exits.length}${finished ? '' : ' — did not finish'}`);
      return report;
    } finally {
      await proc?.stop();
      await collector.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    }
  }

  async cleanup(): Promise<void> {
    if (this.created.length === 0) return;
    await this.withAdmin((admin) => admin.deleteTopics({ topics: this.created.flatMap((t) => topicList(t)), timeout: 30_000 })).catch((e: Error) =>
      log(`warning: could not delete topics: ${e.message}`),
    );
  }
}

async function main(): Promise<void> {
  if (printedUsage(__filename)) return;
  const { values } = parseArgs({
    options: {
      good: { type: 'string', default: '5000' },
      'bad-every': { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      partitions: { type: 'string', default: '12' },
      inflight: { type: 'string', default: '1000' },
      latency: { type: 'string', default: '100' },
      warmup: { type: 'string', default: '1000' },
      'max-seconds': { type: 'string', default: '120' },
      'no-probe': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const o: Options = {
    good: Number(values.good),
    badEvery: Number(values['bad-every']),
    rounds: Number(values.rounds),
    partitions: Number(values.partitions),
    inflight: Number(values.inflight),
    latency: Number(values.latency),
    warmup: Number(values.warmup),
    maxSeconds: Number(values['max-seconds']),
    probe: !values['no-probe'],
    verbose: values.verbose!,
  };
  stopChildrenOnExit();
  const stamp = new Date().toISOString().replace(/\..*/, '');
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
    for (let round = 0; round < o.rounds; round++) {
      runs.push(await campaign.run('clean'));
      runs.push(await campaign.run('mixed'));
    }
    runs.push(await campaign.run('clean'));
    const probes = o.probe ? [await campaign.run('probe: one near-limit record', 2), await campaign.run('probe: 30 kB metadata on every record', 2)] : [];
    await sandbox.proc.stop();

    const clean = runs.filter((r) => r.mode === 'clean');
    const mixed = runs.filter((r) => r.mode === 'mixed');
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cleanRate = mean(clean.map((r) => r.goodThroughput));
    const mixedRate = mean(mixed.map((r) => r.goodThroughput));
    const ratio = mixedRate / cleanRate;

    log('\nbad records, by kind (all mixed runs)');
    log('| kind | expected | sent | as expected | elsewhere | missing |');
    log('|---|---|---|---|---|---|');
    const merged = new Map<string, KindResult>();
    for (const r of mixed.flatMap((m) => m.kinds)) {
      const m = merged.get(r.kind) ?? { ...r, sent: 0, asExpected: 0, elsewhere: {}, missing: 0 };
      m.sent += r.sent;
      m.asExpected += r.asExpected;
      m.missing += r.missing;
      for (const [k, v] of Object.entries(r.elsewhere)) m.elsewhere[k] = (m.elsewhere[k] ?? 0) + v;
      merged.set(r.kind, m);
    }
    for (const k of merged.values()) {
      const reason = KINDS.find((x) => x.name === k.kind)?.reason;
      log(
        `| ${k.kind} | ${k.expect}${reason ? ` ${reason}` : ''} | ${k.sent} | ${k.asExpected} | ${
          Object.entries(k.elsewhere)
            .map(([a, b]) => `${a}: ${b}`)
            .join(', ') || '–'
        } | ${k.missing} |`,
      );
    }
    log('\nruns');
    for (const r of [...runs, ...probes]) {
      log(`  ${r.mode.padEnd(16)} good ${r.goodSucceeded}/${r.good} at ${r.goodThroughput.toFixed(0)}/s, bad ${r.bad}, worker exits ${r.workerExits.length}${r.finished ? '' : ', DID NOT FINISH'}`);
    }
    const allBadHandled = [...merged.values()].every((k) => k.asExpected === k.sent);
    const noCrash = mixed.every((r) => !r.crashed) && clean.every((r) => !r.crashed);
    const goodAll = mixed.every((r) => r.goodSucceeded === r.good);
    const verdicts = [
      { name: 'no worker crash in clean or mixed runs', pass: noCrash },
      { name: 'every bad record routed as its kind expects (DLQ reason / PARAM_ILLEGAL)', pass: allBadHandled },
      { name: 'every good record in the mixed runs succeeded', pass: goodAll },
      { name: `good-record throughput mixed / clean = ${(ratio * 100).toFixed(1)}% (target ≥ 90%)`, pass: ratio >= 0.9 },
    ];
    for (const probe of probes) {
      const k = probe.kinds[0];
      verdicts.push({
        name: `${probe.mode}: ${k ? `${k.asExpected} to the DLQ, ${JSON.stringify(k.elsewhere)}, ${k.missing} without any disposition; ` : ''}worker exits ${probe.workerExits.length}; good ${probe.goodSucceeded}/${probe.good} succeeded`,
        pass: !probe.crashed && probe.finished,
      });
    }
    log('\nverdicts');
    for (const v of verdicts) log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.name}`);
    for (const probe of probes) {
      const fatal = probe.workerExits[0]?.lastLines.split('\n').find((l) => l.includes('"level":"fatal"'));
      if (fatal) log(`\n${probe.mode} — the worker's fatal log line:\n${fatal.slice(0, 600)}`);
    }

    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'bad-input-latest.json'),
      JSON.stringify({ stamp, commit: gitDescribe(), options: o, kinds: [...merged.values()], runs, probes, cleanRate, mixedRate, ratio, verdicts }, null, 2),
    );
    log('\nwrote bench/results/bad-input-latest.json');
    if (!verdicts.every((v) => v.pass)) process.exitCode = 1;
  } finally {
    await stopAll();
    await campaign?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  async (error: Error) => {
    console.error(`bad-input campaign failed: ${error.stack ?? error.message}`);
    await stopAll();
    process.exit(1);
  },
);
