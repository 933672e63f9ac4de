/**
 * One run of bench/bad-input.ts: fresh topics and a fresh worker, a warm-up of good records, then
 * the good stream with the bad records of the mode mixed in. Good-record throughput is timed by a
 * live reader; where every record ended up is read afterwards to the end offsets.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import { headerText, readTopics } from '../../../src/cli/topic-reader';
import { EventRegistry } from '../../../src/events/registry';
import { TOPIC_CONTRACT } from '../../../src/events/contract';
import type { CaptureFailed } from '../../../src/events/types.generated';
import { DLQ_HEADERS } from '../../../src/pipeline/dead-letter';
import { sleep } from '../../../src/util/sleep';
import type { Entrypoints } from '../build';
import { log } from '../cli';
import { dispositionOf, dispositionTopics, type Disposition } from '../../../src/events/contract';
import { benchKafka, createTopics, freshTopics, topicList, type BenchTopics, withAdmin } from '../kafka';
import { LiveReader } from '../live-reader';
import { Proc } from '../proc';
import { workerEnv, type KeyFiles, type Stack } from '../setup';
import { kindContext, KINDS, NEAR_LIMIT, request, type BadKind, type Expect } from './kinds';
import { errorMessage } from '../../../src/util/errors';

export interface KindResult {
  kind: string;
  expect: Expect;
  sent: number;
  asExpected: number;
  elsewhere: Record<string, number>;
  missing: number;
}

export type Mode = 'clean' | 'mixed' | 'probe: one near-limit record' | 'probe: 30 kB metadata on every record';

export interface RunReport {
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

export interface BadInputOptions {
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

/** Where one record ended up: an outcome topic or the DLQ. */
interface Seen {
  topic: Disposition;
  key: string | null;
  resultCode?: string;
  reason?: string;
  kind?: string;
}

/** Good records succeeded, as they are committed: the throughput. */
class GoodCounter {
  done = 0;
  first = 0;
  last = 0;
  any = 0;
  private reader!: LiveReader;

  static async start(kafka: Kafka, t: BenchTopics): Promise<GoodCounter> {
    const c = new GoodCounter();
    c.reader = await LiveReader.start(
      kafka,
      dispositionTopics(t),
      (r) => {
        c.any++;
        if (r.topic !== t.succeeded || !r.key?.toString().startsWith('good-')) return;
        c.done++;
        if (!c.first) c.first = r.seenAt;
        c.last = r.seenAt;
      },
      { groupPrefix: 'bench-badinput-collector', consumer: { maxBytesPerPartition: 4 * 1024 * 1024 }, partitionsConsumedConcurrently: 1 },
    );
    return c;
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}

/** The messages of a run: good ones, and the bad ones among them by kind. */
interface Mix {
  goodCount: number;
  main: Message[];
  retry: Message[];
  /** Sent alone: with others in the same batch it would exceed the broker's limit already here. */
  single: Message[];
  sentByKind: Map<BadKind, Message[]>;
  bad: number;
}

export class Campaign {
  private readonly kafka: Kafka;
  private readonly registry: EventRegistry;
  private readonly created: BenchTopics[] = [];
  private seq = 0;

  constructor(
    private readonly o: BadInputOptions,
    private readonly stack: Stack,
    private readonly entry: Entrypoints,
    private readonly keys: KeyFiles,
    private readonly sandboxUrl: string,
  ) {
    this.kafka = benchKafka(stack.brokers);
    this.registry = EventRegistry.forUrl(stack.registryUrl);
  }

  async run(mode: Mode, restarts = 0): Promise<RunReport> {
    const o = this.o;
    const t = freshTopics(`bench-badinput-${mode.startsWith('probe') ? 'probe' : mode}`);
    await withAdmin(this.kafka, (admin) => createTopics(admin, t, o.partitions));
    this.created.push(t);
    const mix = await this.compose(mode, t);
    const counter = await GoodCounter.start(this.kafka, t);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const env = workerEnv(this.stack, this.keys, this.sandboxUrl, t, { MAX_IN_FLIGHT: o.inflight, API_CONNECTIONS: o.inflight });
    const worker = new RestartingWorker([...this.entry.worker, 'run'], env, `worker ${mode}`, restarts, o.verbose);
    try {
      await worker.start();
      // Small sends for big records, so this producer's own batches stay under the broker's limit.
      const send = sender(producer, mode === 'probe: 30 kB metadata on every record' ? 10 : 500);
      // Warm-up with good records only (not measured).
      await send(t.requested, this.good(t, o.warmup));
      const warmDeadline = Date.now() + 30_000;
      while (counter.done < o.warmup && Date.now() < warmDeadline) await sleep(25);
      const goodBefore = counter.done;
      const anyBefore = counter.any;
      const t0 = Date.now();
      const half = Math.floor(mix.main.length / 2);
      await send(t.requested, mix.main.slice(0, half));
      for (const m of mix.single) await producer.send({ topic: t.requested, messages: [m] });
      await send(t.requested, mix.main.slice(half));
      await send(t.retry, mix.retry);
      const finished = await this.watch(
        mode,
        mix,
        worker,
        () => counter.done - goodBefore,
        () => counter.any - anyBefore,
        t0,
      );
      const elapsedSec = (Date.now() - t0) / 1000;
      const crashed = worker.exits.length > 0 || !worker.alive;
      await worker.stop();
      const kinds = judge(mix, await this.dispositions(t));
      const goodSucceeded = counter.done - goodBefore;
      const window = (counter.last - Math.max(counter.first, t0)) / 1000;
      const report: RunReport = {
        mode,
        good: mix.goodCount,
        goodSucceeded,
        goodThroughput: window > 0 ? goodSucceeded / window : NaN,
        elapsedSec,
        bad: mix.bad,
        kinds,
        workerExits: worker.exits,
        crashed,
        finished,
      };
      log(
        `  ${mode}: good ${goodSucceeded}/${mix.goodCount} succeeded at ${report.goodThroughput.toFixed(0)}/s; bad ${mix.bad}; worker exits ${worker.exits.length}${finished ? '' : ' — did not finish'}`,
      );
      return report;
    } finally {
      await worker.stop();
      await counter.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    }
  }

  async cleanup(): Promise<void> {
    if (this.created.length === 0) return;
    await withAdmin(this.kafka, (admin) => admin.deleteTopics({ topics: this.created.flatMap((t) => topicList(t)), timeout: 30_000 })).catch((e: unknown) =>
      log(`warning: could not delete topics: ${errorMessage(e)}`),
    );
  }

  private good(t: BenchTopics, count: number, metadata: Record<string, string> = {}): Message[] {
    return Array.from({ length: count }, () => {
      const n = ++this.seq;
      return { key: `good-${t.id}-${n}`, value: this.registry.codec.encode('CaptureRequested', request(`pay-good-${t.id}-${n}`, '100', 'USD', metadata)) };
    });
  }

  /** One bad record after every `badEvery` good ones, cycling through the kinds (a probe: a single one, in the middle). */
  private async compose(mode: Mode, t: BenchTopics): Promise<Mix> {
    const probe = mode.startsWith('probe');
    const ctx = await kindContext(this.registry, t);
    const kinds = mode === 'mixed' ? KINDS : mode === 'probe: one near-limit record' ? [NEAR_LIMIT] : [];
    const goodCount = probe ? Math.min(this.o.good, 1000) : this.o.good;
    // Valid requests, each far below any limit; together, more than 1 MB per partition in one transaction.
    const bigMetadata: Record<string, string> = mode === 'probe: 30 kB metadata on every record' ? { blob: 'm'.repeat(30_000) } : {};
    const badAfter = (i: number): boolean => (probe ? i === Math.floor(goodCount / 2) : (i + 1) % this.o.badEvery === 0);
    const mix: Mix = { goodCount, main: [], retry: [], single: [], sentByKind: new Map(), bad: 0 };
    for (const [i, g] of this.good(t, goodCount, bigMetadata).entries()) {
      mix.main.push(g);
      if (kinds.length === 0 || !badAfter(i)) continue;
      const kind = kinds[mix.bad % kinds.length];
      const m = kind.make(++mix.bad, ctx);
      m.headers = { ...m.headers, 'bench-kind': kind.name };
      (kind.retryTopic ? mix.retry : kind === NEAR_LIMIT ? mix.single : mix.main).push(m);
      mix.sentByKind.set(kind, [...(mix.sentByKind.get(kind) ?? []), m]);
    }
    return mix;
  }

  /** Until every good record succeeded and every bad one has a disposition, or the cap; restarts the worker as allowed. */
  private async watch(mode: Mode, mix: Mix, worker: RestartingWorker, goodDone: () => number, seen: () => number, t0: number): Promise<boolean> {
    let lastTick = t0;
    for (;;) {
      await sleep(50);
      const badSeen = seen() - goodDone();
      if (goodDone() >= mix.goodCount && badSeen >= mix.bad) return true;
      if (Date.now() - t0 > this.o.maxSeconds * 1000) return false;
      if (!(await worker.keepUp())) return false;
      if (Date.now() - lastTick >= 1000) {
        lastTick = Date.now();
        log(`  ${mode.padEnd(16)} ${((lastTick - t0) / 1000).toFixed(0).padStart(4)}s  good ${goodDone()}/${mix.goodCount}  bad dispositions ${badSeen}/${mix.bad}`);
      }
    }
  }

  /** Every outcome and DLQ record of the run, read to the end offsets. */
  private async dispositions(t: BenchTopics): Promise<Seen[]> {
    const seen: Seen[] = [];
    await readTopics(this.kafka, { topics: dispositionTopics(t), groupPrefix: 'bench-badinput-final' }, (r) => {
      const s: Seen = { topic: dispositionOf(t, r.topic)!, key: r.key === null ? null : r.key.toString() };
      if (s.topic === 'dlq') {
        const headers = headerText(r.headers);
        s.reason = headers[DLQ_HEADERS.reason];
        s.kind = headers['bench-kind'];
      } else if (s.topic === 'failed' && r.value) {
        s.resultCode = (this.registry.codec.reader(TOPIC_CONTRACT.failed.event).fromBuffer(r.value.subarray(5)) as CaptureFailed).result.resultCode;
      }
      seen.push(s);
    });
    return seen;
  }
}

function sender(producer: Producer, perSend: number): (topic: string, messages: Message[]) => Promise<void> {
  return async (topic, messages) => {
    for (let i = 0; i < messages.length; i += perSend) await producer.send({ topic, messages: messages.slice(i, i + perSend) });
  };
}

/** Where each bad record went, by kind, against where its kind expects it. */
function judge(mix: Mix, seen: Seen[]): KindResult[] {
  const byKey = new Map<string, Seen[]>();
  const dlqByKind = new Map<string, Seen[]>();
  for (const s of seen) {
    if (s.topic === 'dlq' && s.kind) dlqByKind.set(s.kind, [...(dlqByKind.get(s.kind) ?? []), s]);
    else if (s.key !== null) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  }
  const results: KindResult[] = [];
  for (const [kind, messages] of mix.sentByKind) {
    const r: KindResult = { kind: kind.name, expect: kind.expect, sent: messages.length, asExpected: 0, elsewhere: {}, missing: 0 };
    for (const d of dlqByKind.get(kind.name) ?? []) {
      if (kind.expect === 'DLQ' && (!kind.reason || d.reason === kind.reason)) r.asExpected++;
      else {
        const label = `DLQ ${d.reason ?? 'undefined'}`;
        r.elsewhere[label] = (r.elsewhere[label] ?? 0) + 1;
      }
    }
    for (const m of messages) {
      const key = m.key === null || m.key === undefined ? null : m.key.toString();
      if (key === null || key === '') continue; // only the DLQ (by header) can tell these apart
      for (const s of byKey.get(key) ?? []) {
        const label = s.topic === 'failed' ? `failed ${s.resultCode ?? 'undefined'}` : s.topic;
        if (kind.expect === 'PARAM_ILLEGAL' && s.topic === 'failed' && s.resultCode === 'PARAM_ILLEGAL') r.asExpected++;
        else r.elsewhere[label] = (r.elsewhere[label] ?? 0) + 1;
      }
    }
    r.missing = Math.max(0, r.sent - r.asExpected - Object.values(r.elsewhere).reduce((a, b) => a + b, 0));
    results.push(r);
  }
  return results;
}

/** The worker of a run, started again (as Kubernetes would) up to `restarts` times when it exits. */
class RestartingWorker {
  readonly exits: RunReport['workerExits'] = [];
  private proc: Proc | undefined;

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly label: string,
    private readonly restarts: number,
    private readonly verbose: boolean,
  ) {}

  get alive(): boolean {
    return this.proc?.alive ?? false;
  }

  async start(): Promise<void> {
    this.proc = new Proc(this.label, process.execPath, this.args, this.env, this.verbose);
    await this.proc.waitFor(/partitions assigned/, 60_000);
  }

  /** False when it exited once more than it may be restarted. */
  async keepUp(): Promise<boolean> {
    const proc = this.proc!;
    if (proc.alive) return true;
    this.exits.push({ code: proc.child.exitCode, lastLines: proc.tail(3).slice(0, 2000) });
    log(`  ${this.label} exited (code ${proc.child.exitCode ?? 'null'}) — ${this.exits.length}/${this.restarts} restarts`);
    if (this.exits.length > this.restarts) return false;
    await this.start();
    return true;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}
