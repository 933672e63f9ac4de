import type { KafkaMessage } from 'kafkajs';
import type { CaptureRequest, CaptureResult } from '../../../src/api/types';
import { UndecodableRecordError } from '../../../src/events/event-codec';
import type { CaptureRequested } from '../../../src/events/types.generated';
import { createLogger } from '../../../src/observability/logger';
import { CircuitBreaker } from '../../../src/pipeline/circuit-breaker';

const BREAKER = { windowSize: 50, minCalls: 20, faultRatio: 0.5, openMs: 1000, maxOpenMs: 30_000 };
import { WorkerMetrics } from '../../../src/observability/metrics';
import { CompletionHandle, type CompletionSink, type OutputRecord } from '../../../src/pipeline/completion';
import { RecordProcessor, type ProcessorDeps } from '../../../src/pipeline/record-processor';
import { RETRY_HEADERS } from '../../../src/retry/retry-headers';
import { parseTiers } from '../../../src/retry/tiers';

const topics = { requested: 't.req', succeeded: 't.ok', failed: 't.failed', unknown: 't.unknown', retry: 't.retry', dlq: 't.dlq' };
const retry = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5, deadlineMs: 3_600_000, tiers: parseTiers('1s,5s,30s', topics.retry) };

/** A partition that records what it was asked to publish, and commits (or drops) it. */
class FakeSink implements CompletionSink {
  readonly topic = topics.requested;
  readonly partition = 4;
  active = true;
  commits = true;
  readonly published: Array<{ offset: number; records: OutputRecord[] }> = [];
  async publish(offset: number, records: OutputRecord[]): Promise<boolean> {
    if (!this.commits) return false;
    this.published.push({ offset, records });
    return true;
  }
}

const request: CaptureRequested = { paymentId: 'pay-1', captureAmount: { currency: 'HKD', value: '1000' }, requestedAt: 1, metadata: {} };

function setup(
  results: (request: CaptureRequest) => Promise<CaptureResult>,
  decode: (value: Buffer | null) => Promise<CaptureRequested> = async () => request,
  options: { breaker?: ProcessorDeps['breaker']; stopping?: () => boolean; encode?: ProcessorDeps['codec']['encode']; logSuccessShare?: number; lines?: string[] } = {},
) {
  const calls: CaptureRequest[] = [];
  const metrics = new WorkerMetrics();
  /** The order of limiter and circuit steps around each call, and what the limiter was told. */
  const gate: string[] = [];
  const deps: ProcessorDeps = {
    config: { topics, retry, maxRecordBytes: 1024, logSuccessShare: options.logSuccessShare },
    codec: {
      decode: (async (_name: string, value: Buffer | null) => decode(value)) as ProcessorDeps['codec']['decode'],
      encode: options.encode ?? ((name: string, value: unknown) => Buffer.from(JSON.stringify({ name, value }))),
    },
    api: {
      capture: (r) => {
        calls.push(r);
        return results(r);
      },
    },
    breaker: options.breaker ?? {
      admit: async () => {
        gate.push('admit');
        return false;
      },
      record: () => undefined,
      halt: () => true,
      returnProbe: () => undefined,
    },
    limiter: {
      acquire: async () => {
        gate.push('acquire');
        return (signal) => gate.push(`release ${signal}`);
      },
    },
    metrics,
    logger: options.lines ? createLogger('info', { write: (line: string) => void options.lines!.push(line) }) : createLogger('silent'),
    stopping: options.stopping ?? (() => false),
    now: () => 1_000_000,
  };
  return { processor: new RecordProcessor(deps), calls, metrics, gate };
}

let nextOffset = 0;
function record(key: string | null, value: Buffer | null = Buffer.from('request-bytes')): KafkaMessage {
  return { offset: String(nextOffset++), key: key === null ? null : Buffer.from(key), value, timestamp: '0', attributes: 0, headers: {} };
}

function handleFor(sink: FakeSink, message: KafkaMessage) {
  const handle = new CompletionHandle(sink, message);
  const release = jest.fn();
  handle.holdSlot(release);
  return { handle, release };
}

const ok: CaptureResult = { status: 'S', resultCode: 'SUCCESS', resultMessage: 'success.', local: false, captureId: 'c-1', captureTime: 't' };
const unknown: CaptureResult = { status: 'U', resultCode: 'UNKNOWN_EXCEPTION', resultMessage: 'unknown', local: false };

async function counted(metrics: WorkerMetrics): Promise<number> {
  const values = (await metrics.outcomes.get()).values;
  return values.reduce((sum, v) => sum + v.value, 0);
}

describe('RecordProcessor', () => {
  it('calls the API with the record key as captureRequestId and publishes one outcome with the key bytes unchanged', async () => {
    const { processor, calls, metrics } = setup(async () => ok);
    const sink = new FakeSink();
    const message = record('key-1');
    const { handle, release } = handleFor(sink, message);
    await processor.process(handle, { attempt: 1 });
    expect(calls).toEqual([{ captureRequestId: 'key-1', paymentId: 'pay-1', captureAmount: { currency: 'HKD', value: '1000' } }]);
    expect(sink.published).toHaveLength(1);
    expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.succeeded]);
    expect(sink.published[0].records[0].message.key).toBe(message.key);
    expect(release).toHaveBeenCalledTimes(1);
    expect(await counted(metrics)).toBe(1);
  });

  it('an unknown result publishes CaptureUnknown and a retry record carrying the original bytes and the next attempt', async () => {
    const { processor } = setup(async () => unknown);
    const sink = new FakeSink();
    const message = record('key-2');
    await processor.process(handleFor(sink, message).handle, { attempt: 2, firstAttemptAt: 999_000 });
    const [outcome, retryRecord] = sink.published[0].records;
    // Attempt 2 backs off 1–2 s: the 1 s tier, due within its jitter.
    expect([outcome.topic, retryRecord.topic]).toEqual([topics.unknown, `${topics.retry}.1s`]);
    expect(retryRecord.message.key).toBe(message.key);
    expect(retryRecord.message.value).toBe(message.value);
    const headers = retryRecord.message.headers as Record<string, string>;
    expect(headers[RETRY_HEADERS.attempt]).toBe('3');
    expect(headers[RETRY_HEADERS.firstAttemptAt]).toBe('999000');
    expect(Number(headers[RETRY_HEADERS.dueAt])).toBeGreaterThanOrEqual(1_000_000 + 1000);
    expect(Number(headers[RETRY_HEADERS.dueAt])).toBeLessThanOrEqual(1_000_000 + 1100);
  });

  it('a rate-limit answer is CaptureUnknown with a retry, never CaptureFailed; it is counted and cuts the concurrency limit', async () => {
    const rateLimited: CaptureResult = { status: 'U', resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT', resultMessage: 'traffic exceeds limit', local: false };
    const { processor, metrics, gate } = setup(async () => rateLimited);
    const sink = new FakeSink();
    await processor.process(handleFor(sink, record('key-rl')).handle, { attempt: 1 });
    expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.unknown, `${topics.retry}.1s`]);
    expect((await metrics.apiRateLimited.get()).values[0]?.value).toBe(1);
    // A slot of the limit is taken before the circuit is waited for, and given back with what the call said.
    expect(gate).toEqual(['acquire', 'admit', 'release rate-limited']);
  });

  it('tells the limiter a transport fault, and nothing for a request answered locally without a call', async () => {
    const fault: CaptureResult = { status: 'U', resultCode: 'LOCAL_TIMEOUT', resultMessage: 'timeout', local: true };
    const { processor, gate } = setup(async () => fault);
    await processor.process(handleFor(new FakeSink(), record('key-f')).handle, { attempt: 1 });
    expect(gate).toEqual(['acquire', 'admit', 'release fault']);
    const invalid = setup(
      async () => ok,
      async () => ({ ...request, captureAmount: { currency: 'HKD', value: '-1' } }),
    );
    await invalid.processor.process(handleFor(new FakeSink(), record('key-i')).handle, { attempt: 1 });
    expect(invalid.gate).toEqual([]);
  });

  it('counts nothing when the partition dropped the outcome instead of committing it', async () => {
    const { processor, metrics } = setup(async () => ok);
    const sink = new FakeSink();
    sink.commits = false;
    const { handle, release } = handleFor(sink, record('key-3'));
    await processor.process(handle, { attempt: 1 });
    expect(await counted(metrics)).toBe(0);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('makes no call for a record whose partition is no longer active, and frees its slot', async () => {
    const { processor, calls } = setup(async () => ok);
    const sink = new FakeSink();
    sink.active = false;
    const { handle, release } = handleFor(sink, record('key-4'));
    await processor.process(handle, { attempt: 1 });
    expect(calls).toEqual([]);
    expect(sink.published).toEqual([]);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('sends a keyless record to the DLQ with its bytes untouched and no call', async () => {
    const { processor, calls, metrics } = setup(async () => ok);
    const sink = new FakeSink();
    const message = record(null);
    await processor.process(handleFor(sink, message).handle, { attempt: 1 });
    expect(calls).toEqual([]);
    const [dlq] = sink.published[0].records;
    expect(dlq.topic).toBe(topics.dlq);
    expect(dlq.message.value).toBe(message.value);
    expect((dlq.message.headers as Record<string, string>)['dlq-reason']).toBe('MISSING_KEY');
    expect((await metrics.deadLettered.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([['MISSING_KEY', 1]]);
  });

  it('a REPEAT_REQ_INCONSISTENT answer publishes no outcome: the record goes to the DLQ as CONFLICTING_REQUEST with the vendor result', async () => {
    const conflict: CaptureResult = { status: 'F', resultCode: 'REPEAT_REQ_INCONSISTENT', resultMessage: 'same request id already exists with different parameters', local: false };
    const { processor, metrics } = setup(async () => conflict);
    const sink = new FakeSink();
    const message = record('key-c');
    await processor.process(handleFor(sink, message).handle, { attempt: 1 });
    expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.dlq]);
    const headers = sink.published[0].records[0].message.headers as Record<string, string>;
    expect([headers['dlq-reason'], headers['dlq-vendor-result-code'], headers['dlq-vendor-result-status']]).toEqual(['CONFLICTING_REQUEST', 'REPEAT_REQ_INCONSISTENT', 'F']);
    expect(sink.published[0].records[0].message.value).toBe(message.value);
    expect(await counted(metrics)).toBe(0);
    expect((await metrics.conflicts.get()).values[0].value).toBe(1);
  });

  it('sends a record whose key is not valid UTF-8 to the DLQ, bytes untouched, with no call', async () => {
    const { processor, calls } = setup(async () => ok);
    const sink = new FakeSink();
    const message = { ...record('x'), key: Buffer.from([0x6b, 0xff, 0x31]) } as KafkaMessage;
    await processor.process(handleFor(sink, message).handle, { attempt: 1 });
    expect(calls).toEqual([]);
    const [dlq] = sink.published[0].records;
    expect(dlq.message.key).toEqual(Buffer.from([0x6b, 0xff, 0x31]));
    expect((dlq.message.headers as Record<string, string>)['dlq-reason']).toBe('INVALID_KEY');
  });

  it('sends an undecodable record to the DLQ with the decoder reason', async () => {
    const { processor, calls } = setup(
      async () => ok,
      async () => {
        throw new UndecodableRecordError('NOT_CONFLUENT_AVRO', 'no magic byte');
      },
    );
    const sink = new FakeSink();
    await processor.process(handleFor(sink, record('key-5')).handle, { attempt: 1 });
    expect(calls).toEqual([]);
    expect((sink.published[0].records[0].message.headers as Record<string, string>)['dlq-reason']).toBe('NOT_CONFLUENT_AVRO');
  });

  it('runs records of the same key one at a time, in the order they were given', async () => {
    const gates: Array<() => void> = [];
    const { processor, calls } = setup(() => new Promise((resolve) => gates.push(() => resolve(ok))));
    const sink = new FakeSink();
    const [a, b] = [record('same'), record('same')];
    const first = processor.process(handleFor(sink, a).handle, { attempt: 1 });
    const second = processor.process(handleFor(sink, b).handle, { attempt: 1 });
    const other = processor.process(handleFor(sink, record('other')).handle, { attempt: 1 });
    await new Promise((r) => setImmediate(r));
    // The second 'same' waits for the first; 'other' does not.
    expect(calls.map((c) => c.captureRequestId)).toEqual(['same', 'other']);
    gates.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(calls.map((c) => c.captureRequestId)).toEqual(['same', 'other', 'same']);
    for (const gate of gates.splice(0)) gate();
    await Promise.all([second, other]);
    const sameOffsets = sink.published.filter((p) => p.offset === Number(a.offset) || p.offset === Number(b.offset)).map((p) => p.offset);
    expect(sameOffsets).toEqual([Number(a.offset), Number(b.offset)]);
  });
});

describe('CompletionHandle', () => {
  it('frees its slot exactly once, whether it completes or is abandoned, and refuses a second completion', async () => {
    const sink = new FakeSink();
    const { handle, release } = handleFor(sink, record('h-1'));
    expect(await handle.complete([])).toBe(true);
    handle.abandon();
    expect(release).toHaveBeenCalledTimes(1);
    await expect(handle.complete([])).rejects.toThrow('completed twice');

    const other = handleFor(sink, record('h-2'));
    other.handle.abandon();
    other.handle.abandon();
    expect(other.release).toHaveBeenCalledTimes(1);
    expect(other.handle.live).toBe(false);
  });

  it('frees its slot when publishing fails', async () => {
    const sink = new FakeSink();
    sink.publish = async () => {
      throw new Error('broker gone');
    };
    const { handle, release } = handleFor(sink, record('h-3'));
    await expect(handle.complete([])).rejects.toThrow('broker gone');
    expect(release).toHaveBeenCalledTimes(1);
  });

  describe('an answer refusing the merchant configuration', () => {
    const refused = (resultCode: string): CaptureResult => ({ status: 'F', resultCode, resultMessage: 'refused', local: false, httpStatus: 401 });

    it.each(['ACCESS_DENIED', 'INVALID_SIGNATURE', 'INVALID_CLIENT', 'INVALID_API', 'OAUTH_FAIL', 'METHOD_NOT_SUPPORTED'])(
      '%s fails no capture: the calls halt and the same request is sent again by the probe',
      async (code) => {
        const breaker = new CircuitBreaker({ ...BREAKER, haltProbeMs: 20 });
        let answers = 0;
        const { processor, calls, metrics } = setup(async () => (++answers <= 2 ? refused(code) : ok), undefined, { breaker });
        const sink = new FakeSink();
        await processor.process(handleFor(sink, record(`key-${code}`)).handle, { attempt: 1 });
        expect(calls).toHaveLength(3);
        expect(new Set(calls.map((c) => c.captureRequestId))).toEqual(new Set([`key-${code}`]));
        expect(sink.published).toHaveLength(1);
        expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.succeeded]);
        expect((await metrics.configurationRefusals.get()).values).toEqual([expect.objectContaining({ value: 2, labels: { code } })]);
        expect(breaker.state).toBe('closed');
        breaker.dispose();
      },
    );

    it('an answer from the capture sandbox to a worker not set up for it halts the calls too', async () => {
      const breaker = new CircuitBreaker({ ...BREAKER, haltProbeMs: 20 });
      const sandboxAnswer: CaptureResult = { status: 'F', resultCode: 'LOCAL_SANDBOX_ANSWER', resultMessage: 'the capture sandbox answered', local: true };
      let answers = 0;
      const { processor } = setup(async () => (++answers === 1 ? sandboxAnswer : ok), undefined, { breaker });
      const sink = new FakeSink();
      await processor.process(handleFor(sink, record('key-sandbox')).handle, { attempt: 1 });
      expect(answers).toBe(2);
      expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.succeeded]);
      breaker.dispose();
    });

    it('a record given up while the calls are halted publishes nothing and frees its slot', async () => {
      const breaker = new CircuitBreaker({ ...BREAKER, haltProbeMs: 20 });
      let stopping = false;
      const { processor, calls } = setup(
        async () => {
          stopping = true;
          return refused('INVALID_SIGNATURE');
        },
        undefined,
        { breaker, stopping: () => stopping },
      );
      const sink = new FakeSink();
      const { handle, release } = handleFor(sink, record('key-halt-stop'));
      await processor.process(handle, { attempt: 1 });
      expect(calls).toHaveLength(1);
      expect(sink.published).toEqual([]);
      expect(release).toHaveBeenCalledTimes(1);
      expect(breaker.state).toBe('halted');
      breaker.dispose();
    });
  });

  it('validates a request before its first attempt only: a retry was sent before and is never failed locally', async () => {
    const invalid = async () => ({ ...request, captureAmount: { currency: 'HKD', value: '-1' } });
    const first = setup(async () => ok, invalid);
    const sink = new FakeSink();
    await first.processor.process(handleFor(sink, record('key-v1')).handle, { attempt: 1 });
    expect(first.calls).toHaveLength(0);
    expect(sink.published[0].records.map((r) => r.topic)).toEqual([topics.failed]);
    const retried = setup(async () => unknown, invalid);
    const retrySink = new FakeSink();
    await retried.processor.process(handleFor(retrySink, record('key-v2')).handle, { attempt: 2, firstAttemptAt: 999_000 });
    expect(retried.calls).toHaveLength(1);
    expect(retrySink.published[0].records.map((r) => r.topic)).toEqual([topics.unknown, `${topics.retry}.1s`]);
  });

  it('an outcome that cannot be encoded after the call sends the record to the DLQ with the vendor result, instead of crashing', async () => {
    const encode = (() => {
      throw new Error('value out of range for long');
    }) as ProcessorDeps['codec']['encode'];
    const { processor, calls } = setup(async () => ok, undefined, { encode });
    const sink = new FakeSink();
    const message = record('key-enc');
    await processor.process(handleFor(sink, message).handle, { attempt: 1 });
    expect(calls).toHaveLength(1);
    const [dlq] = sink.published[0].records;
    expect(sink.published[0].records).toHaveLength(1);
    expect(dlq.topic).toBe(topics.dlq);
    expect(dlq.message.value).toBe(message.value);
    expect(dlq.message.headers).toMatchObject({ 'dlq-reason': 'OUTCOME_ENCODE_FAILED', 'dlq-vendor-result-code': 'SUCCESS', 'dlq-vendor-result-status': 'S', 'dlq-vendor-capture-id': 'c-1' });
  });

  it('logs one line per outcome with key, paymentId, partition, offset, attempt, duration and code; successes can be sampled out', async () => {
    const lines: string[] = [];
    const { processor } = setup(async (r) => (r.captureRequestId === 'key-log-u' ? unknown : ok), undefined, { lines, logSuccessShare: 0 });
    const sink = new FakeSink();
    await processor.process(handleFor(sink, record('key-log-s')).handle, { attempt: 1 });
    await processor.process(handleFor(sink, record('key-log-u')).handle, { attempt: 1 });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => l.captureRequestId)).toEqual(['key-log-u']);
    expect(logged[0]).toMatchObject({
      level: 'info',
      paymentId: 'pay-1',
      topic: topics.requested,
      partition: 4,
      status: 'U',
      resultCode: 'UNKNOWN_EXCEPTION',
      attempt: 1,
      durationMs: 0,
      final: false,
    });
    expect(typeof logged[0].offset).toBe('string');
  });
});
