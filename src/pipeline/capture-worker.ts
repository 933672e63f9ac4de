import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { validateCaptureRequest } from '../api/validate';
import type { CaptureRequest, CaptureResult } from '../api/types';
import type { WorkerConfig } from '../config/config';
import { EventCodec, UndecodableRecordError } from '../events/event-codec';
import type { CaptureRequested } from '../events/types.generated';
import type { Logger } from '../observability/logger';
import { WorkerMetrics } from '../observability/metrics';
import { nextAttemptAt } from '../retry/backoff';
import { DueQueue } from '../retry/due-queue';
import { readRetrySchedule, retryHeaders } from '../retry/retry-headers';
import { CircuitBreaker, CircuitState, DEFAULT_BREAKER } from './circuit-breaker';
import { deadLetter } from './dead-letter';
import { InFlightWindow } from './in-flight-window';
import { KeyLanes } from './key-lanes';
import { buildOutcome, OUTCOME_EVENT_NAMES } from './outcomes';
import { decodeCompleted, PartitionProgress } from './partition-progress';
import { Completion, TransactionalPublisher } from './transactional-publisher';
import { sleep } from '../util/sleep';

/** The one thing the worker needs from the API client. */
export interface CaptureApi {
  capture(request: CaptureRequest): Promise<CaptureResult>;
}

export interface CaptureWorkerOptions {
  config: WorkerConfig;
  kafka: Kafka;
  codec: EventCodec;
  api: CaptureApi;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Stable across restarts of the same instance, so a restart fences the previous transaction. */
  transactionalId: string;
}

/** A consumed record on its way through: where it came from and which attempt it is. */
interface Job {
  progress: PartitionProgress;
  message: KafkaMessage;
  key: string;
  attempt: number;
  firstAttemptAt?: number;
}

const HEARTBEAT_EVERY_MS = 1000;
/** Longer than a transaction commit takes: how long a new owner waits before reading the committed offset. */
const TAKEOVER_SETTLE_MS = 1000;

/**
 * CaptureRequested → capture API → outcome events. Records are admitted into a bounded in-flight
 * window (the consumer blocks, heartbeating, when it is full); same-key records run one at a time
 * in offset order, different keys concurrently; every outcome is committed together with its
 * consumed offset. Unknown results are rescheduled on the retry topic and held until due.
 */
export class CaptureWorker {
  readonly metrics: WorkerMetrics;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly publisher: TransactionalPublisher;
  private readonly window: InFlightWindow;
  private readonly lanes = new KeyLanes();
  private readonly breaker: CircuitBreaker;
  private readonly retries: DueQueue<Job & { dueAt: number }>;
  private readonly progress = new Map<string, PartitionProgress>();
  private retryTopicPaused = false;
  private retriesAwaitingSlot = 0;
  private stopping = false;
  private rebalanced = false;
  private readonly admin: Admin;
  private joined = false;
  private crashed: Error | undefined;

  constructor(private readonly o: CaptureWorkerOptions) {
    const { config } = o;
    this.metrics = o.metrics ?? new WorkerMetrics();
    this.window = new InFlightWindow(config.maxInFlight);
    this.admin = o.kafka.admin();
    this.consumer = o.kafka.consumer({
      groupId: config.kafka.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 50,
      // A killed instance's partitions move on after 10 s instead of the default 30 s.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
    });
    this.producer = o.kafka.producer({
      transactionalId: o.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      // The broker answers CONCURRENT_TRANSACTIONS for a few ms after each commit; KafkaJS's default
      // 300 ms first retry would stall every commit queued behind it.
      retry: { initialRetryTime: 20, maxRetryTime: 2_000, retries: Number.MAX_SAFE_INTEGER },
      // Java-compatible murmur2 placement, so outcome keys land where Java producers put them.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.publisher = new TransactionalPublisher(this.producer, {
      groupId: config.kafka.groupId,
      maxRecords: config.transaction.maxRecords,
      lingerMs: config.transaction.lingerMs,
      maxBytes: config.transaction.maxBytes,
      onCommit: (records, ms) => {
        this.metrics.commitLatency.observe(ms / 1000);
        this.metrics.transactionRecords.observe(records);
      },
    });
    this.breaker = new CircuitBreaker(DEFAULT_BREAKER, (state) => this.onCircuit(state));
    this.retries = new DueQueue((job) => void this.fireRetry(job));
  }

  /** True once the consumer has joined its group and the producer is connected. */
  get ready(): boolean {
    return this.joined && !this.stopping && !this.crashed;
  }

  get failure(): Error | undefined {
    return this.crashed;
  }

  async start(): Promise<void> {
    const { config, codec } = this.o;
    for (const name of OUTCOME_EVENT_NAMES) {
      await codec.useSubject(name, name === 'CaptureSucceeded' ? config.topics.succeeded : name === 'CaptureFailed' ? config.topics.failed : config.topics.unknown);
    }
    await this.producer.connect();
    await this.admin.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.rebalanced = true;
      this.publisher.hold();
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crash(payload.error);
    });
    await this.consumer.subscribe({ topics: [config.topics.requested, config.topics.retry], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * Stops fetching, lets admitted records finish within the grace period, commits what
   * completed and disconnects. Held retries and unfinished records stay uncommitted and are
   * consumed again by whoever owns their partitions next.
   */
  async stop(graceMs = this.o.config.shutdownGraceMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.o.logger.info({ inFlight: this.window.inFlight, graceMs }, 'stopping: no new records, finishing in-flight captures');
    try {
      this.consumer.pause([{ topic: this.o.config.topics.requested }, { topic: this.o.config.topics.retry }]);
    } catch {
      // A consumer that crashed before joining has nothing to pause.
    }
    this.retries.close();
    const deadline = Date.now() + graceMs;
    while (this.window.inFlight > 0 && Date.now() < deadline) await sleep(50);
    await this.publisher.flush().catch((error) => this.o.logger.error({ err: error }, 'final commit failed; uncommitted records will be consumed again'));
    if (this.window.inFlight > 0) this.o.logger.warn({ inFlight: this.window.inFlight }, 'grace period over; unfinished captures will be retried by the next owner');
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.admin.disconnect();
    this.breaker.dispose();
    this.o.logger.info('stopped');
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const progress = await this.progressFor(batch.topic, batch.partition);
    const isRetryTopic = batch.topic === this.o.config.topics.retry;
    let lastHeartbeat = Date.now();
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping || progress.revoked) return;
      while (!(await this.window.acquireWithin(HEARTBEAT_EVERY_MS))) {
        await heartbeat();
        lastHeartbeat = Date.now();
        if (this.stopping || !isRunning() || isStale()) return;
      }
      const offset = Number(message.offset);
      if (!progress.dispatch(offset)) {
        this.window.release();
        resolveOffset(message.offset);
        continue;
      }
      this.metrics.consumed.inc({ topic: batch.topic });
      this.metrics.inFlight.set(this.window.inFlight);
      resolveOffset(message.offset);
      if (progress.wasCompletedBefore(offset)) void this.run(() => this.commit({ progress, offset, messages: [] }));
      else if (isRetryTopic) this.holdRetry(progress, message);
      else void this.run(() => this.handle({ progress, message, key: message.key?.toString() ?? '', attempt: 1 }));
      if (Date.now() - lastHeartbeat > HEARTBEAT_EVERY_MS) {
        await heartbeat();
        lastHeartbeat = Date.now();
      }
    }
  }

  /** A retry holds no in-flight slot while it waits; it takes one again when due. */
  private holdRetry(progress: PartitionProgress, message: KafkaMessage): void {
    this.window.release();
    this.metrics.inFlight.set(this.window.inFlight);
    const schedule = readRetrySchedule(message.headers);
    if (!schedule) {
      void this.withSlot(() => this.sendToDlq(progress, message, 'BAD_RETRY_HEADERS', 'retry record without valid capture-attempt / capture-due-at / capture-first-attempt-at headers'));
      return;
    }
    const key = message.key?.toString() ?? '';
    this.retries.add(schedule.dueAt, { progress, message, key, attempt: schedule.attempt, firstAttemptAt: schedule.firstAttemptAt, dueAt: schedule.dueAt });
    this.updateRetryBackpressure();
  }

  /** Due retries still waiting for an in-flight slot count as pending too: memory stays bounded. */
  private updateRetryBackpressure(): void {
    const pending = this.retries.size + this.retriesAwaitingSlot;
    this.metrics.retriesPending.set(pending);
    const { maxPending } = this.o.config.retry;
    if (!this.retryTopicPaused && pending >= maxPending) {
      this.retryTopicPaused = true;
      this.consumer.pause([{ topic: this.o.config.topics.retry }]);
    } else if (this.retryTopicPaused && pending < maxPending * 0.9 && !this.stopping) {
      this.retryTopicPaused = false;
      this.consumer.resume([{ topic: this.o.config.topics.retry }]);
    }
  }

  private fireRetry(job: Job & { dueAt: number }): void {
    if (job.progress.revoked || this.stopping) return;
    this.retriesAwaitingSlot++;
    void this.window.acquire().then(() => {
      this.retriesAwaitingSlot--;
      // Measured when the call can actually start, so a full window shows up as lateness.
      this.metrics.retriesFired.inc();
      this.metrics.retryFireDelay.observe(Math.max(0, Date.now() - job.dueAt) / 1000);
      this.updateRetryBackpressure();
      return this.run(() => this.handle(job));
    });
  }

  private async withSlot(task: () => Promise<void>): Promise<void> {
    await this.window.acquire();
    await this.run(task);
  }

  /** Runs a task that holds an in-flight slot, frees the slot after it, and never throws. */
  private async run(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      // Only a commit that can never succeed gets here; the worker must restart and re-consume.
      if (!this.stopping) this.crash(error as Error);
    } finally {
      this.window.release();
      this.metrics.inFlight.set(this.window.inFlight);
    }
  }

  /** Takes one record to its committed outcome (or the DLQ). */
  private async handle(job: Job): Promise<void> {
    const { progress, message } = job;
    if (!message.key || message.key.length === 0) {
      return this.sendToDlq(progress, message, 'MISSING_KEY', 'record has no key; the key is the captureRequestId');
    }
    const bytes = message.value?.length ?? 0;
    if (bytes > this.o.config.maxRecordBytes) {
      // Its outcome copies the request and could exceed the broker's message limit: refuse before any call.
      return this.sendToDlq(progress, message, 'RECORD_TOO_LARGE', `value is ${bytes} bytes; MAX_RECORD_BYTES is ${this.o.config.maxRecordBytes}`);
    }
    let request: CaptureRequested;
    try {
      request = await this.decodeRequest(message.value);
    } catch (error) {
      if (error instanceof UndecodableRecordError) return this.sendToDlq(progress, message, error.reason, error.message);
      throw error;
    }
    await this.lanes.run(job.key, () => this.attempt(job, request));
  }

  /** Registry outages are waited out: a record is never condemned because the registry is down. */
  private async decodeRequest(value: Buffer | null): Promise<CaptureRequested> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        return await this.o.codec.decode('CaptureRequested', value);
      } catch (error) {
        if (error instanceof UndecodableRecordError || this.stopping) throw error;
        this.o.logger.warn({ err: error, retryInMs: wait }, 'schema registry unavailable; retrying decode');
        await sleep(wait);
      }
    }
  }

  private async attempt(job: Job, request: CaptureRequested): Promise<void> {
    const { config, codec } = this.o;
    const captureRequest: CaptureRequest = { captureRequestId: job.key, paymentId: request.paymentId, captureAmount: request.captureAmount };
    const startedAt = Date.now();
    const result = await this.call(captureRequest);
    const completedAt = Date.now();
    const firstAttemptAt = job.firstAttemptAt ?? startedAt;
    const retryAt = result.status === 'U' ? nextAttemptAt(config.retry, job.attempt, firstAttemptAt, completedAt) : undefined;
    const outcome = buildOutcome(config.topics, { captureRequestId: job.key, request, attempt: job.attempt, firstAttemptAt, completedAt }, result, retryAt);
    const messages: Completion['messages'] = [{ topic: outcome.topic, message: { key: job.message.key, value: codec.encode(outcome.event.name, outcome.event.value as never) } }];
    if (retryAt !== undefined) {
      messages.push({
        topic: config.topics.retry,
        message: { key: job.message.key, value: job.message.value, headers: retryHeaders({ attempt: job.attempt + 1, dueAt: retryAt, firstAttemptAt }) },
      });
    }
    await this.commit({ progress: job.progress, offset: Number(job.message.offset), messages });
    this.metrics.outcomes.inc({ status: result.status, code: result.resultCode });
    if (retryAt !== undefined) this.metrics.retriesScheduled.inc();
    if (result.status !== 'S' || this.o.logger.isLevelEnabled('debug')) {
      this.o.logger.child({ captureRequestId: job.key }).info(
        { status: result.status, resultCode: result.resultCode, attempt: job.attempt, nextAttemptAt: retryAt, final: result.status === 'U' && retryAt === undefined },
        result.resultMessage,
      );
    }
  }

  /** Invalid requests are answered locally; valid ones wait for the circuit, then call the API. */
  private async call(request: CaptureRequest): Promise<CaptureResult> {
    const problem = validateCaptureRequest(request);
    if (problem) return { status: 'F', resultCode: 'PARAM_ILLEGAL', resultMessage: `${problem.field}: ${problem.message}`, local: true };
    const probe = await this.breaker.admit();
    const timer = this.metrics.apiLatency.startTimer();
    let result: CaptureResult | undefined;
    try {
      result = await this.o.api.capture(request);
      return result;
    } finally {
      timer({ status: result?.status ?? 'U' });
      this.breaker.record(result === undefined || (result.status === 'U' && result.local), probe);
    }
  }

  private async sendToDlq(progress: PartitionProgress, message: KafkaMessage, reason: string, error: string): Promise<void> {
    this.o.logger.warn({ reason, error, topic: progress.topic, partition: progress.partition, offset: message.offset }, 'record sent to the DLQ');
    await this.commit({ progress, offset: Number(message.offset), messages: [{ topic: this.o.config.topics.dlq, message: deadLetter(progress, message, reason, error) }] });
    this.metrics.deadLettered.inc({ reason });
  }

  private commit(completion: Completion): Promise<void> {
    return this.publisher.publish(completion);
  }

  private async progressFor(topic: string, partition: number): Promise<PartitionProgress> {
    const id = `${topic}|${partition}`;
    let progress = this.progress.get(id);
    if (!progress) {
      const { offset, completed } = await this.committedPosition(topic, partition);
      progress = new PartitionProgress(topic, partition, completed, offset);
      this.progress.set(id, progress);
    }
    return progress;
  }

  /**
   * Where the previous owner got to. After a rebalance its last transaction may still be
   * completing, and a committed offset read too early is stale: wait it out, read again, and skip
   * whatever the fetch returns below the fresh position.
   */
  private async committedPosition(topic: string, partition: number): Promise<{ offset?: number; completed: Set<number> }> {
    if (this.rebalanced) await sleep(TAKEOVER_SETTLE_MS);
    const [committed] = await this.admin.fetchOffsets({ groupId: this.o.config.kafka.groupId, topics: [topic] });
    const entry = committed?.partitions.find((p) => p.partition === partition);
    const offset = entry ? Number(entry.offset) : -1;
    return offset >= 0 ? { offset, completed: decodeCompleted(offset, entry!.metadata) } : { completed: new Set() };
  }

  /** Partitions taken away stop committing: their unfinished records belong to the new owner now. */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.joined = true;
    for (const [id, progress] of this.progress) {
      if (assignment[progress.topic]?.includes(progress.partition)) continue;
      progress.revoked = true;
      this.progress.delete(id);
    }
    this.retries.remove((job) => job.progress.revoked);
    // Results of revoked partitions are dropped from the queue; the kept ones commit now.
    this.publisher.release();
    this.o.logger.info({ assignment }, 'partitions assigned');
  }

  private onCircuit(state: CircuitState): void {
    this.metrics.circuitOpen.set(state === 'closed' ? 0 : state === 'half-open' ? 1 : 2);
    this.o.logger.warn({ state }, `capture API circuit ${state}`);
  }

  private crash(error: Error): void {
    if (this.crashed) return;
    this.crashed = error;
    this.o.logger.fatal({ err: error }, 'worker cannot continue; restart it (uncommitted records are consumed again)');
    this.onFatal?.(error);
  }

  /** Called once when the worker cannot go on (a commit that can never succeed, a consumer crash). */
  onFatal?: (error: Error) => void;
}
