import type { Admin, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { WorkerConfig } from '../config/config';
import type { EventCodec } from '../events/event-codec';
import type { Logger } from '../observability/logger';
import { judgeLiveness, type LivenessBounds, type LivenessVerdict } from '../observability/liveness';
import { WorkerMetrics } from '../observability/metrics';
import type { Tracing } from '../observability/tracing';
import type { RetryRoute } from '../retry/retry-route';
import type { RetryTier } from '../retry/tiers';
import { sleep } from '../util/sleep';
import { admitBatch, type AdmissionContext } from './batch-admission';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import type { CompletionHandle } from './completion';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { InFlightWindow } from './in-flight-window';
import { Intake } from './intake';
import { PartitionOwner } from './partition-owner';
import { PartitionRegistry } from './partition-registry';
import { RecordProcessor, type CaptureApi } from './record-processor';

export type { CaptureApi } from './record-processor';

export interface CaptureWorkerOptions {
  config: WorkerConfig;
  kafka: Kafka;
  codec: EventCodec;
  api: CaptureApi;
  logger: Logger;
  metrics?: WorkerMetrics;
  tracing?: Tracing;
}

type Lifecycle = 'created' | 'running' | 'stopping' | 'stopped' | 'crashed';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open', 'halted'];

/**
 * CaptureRequested → capture API → outcome events. Records are admitted into a bounded in-flight
 * window (the consumer blocks, heartbeating, when it is full); every partition is owned by a
 * PartitionOwner that commits its records' outcomes with its offset in transactions of its own;
 * unknown results are rescheduled on the retry topic, whose records its partitions hold until due.
 */
export class CaptureWorker {
  readonly metrics: WorkerMetrics;
  private readonly intake: Intake;
  private readonly admin: Admin;
  private readonly registry: PartitionRegistry;
  private readonly processor: RecordProcessor;
  private readonly window: InFlightWindow;
  private readonly breaker: CircuitBreaker;
  private readonly limiter: ConcurrencyLimiter;
  private lifecycle: Lifecycle = 'created';
  private crashed: Error | undefined;
  private readonly admission: AdmissionContext;
  /** Last time a record settled, or work began after the window was empty (see liveness). */
  private lastProgressAt = Date.now();
  private readonly releaseSlot = () => {
    this.window.release();
    this.lastProgressAt = Date.now();
    this.metrics.inFlight.set(this.window.inFlight);
  };

  constructor(private readonly o: CaptureWorkerOptions) {
    const { config, kafka, logger } = o;
    this.metrics = o.metrics ?? new WorkerMetrics();
    this.window = new InFlightWindow(config.maxInFlight);
    const retrySources = new Map<string, RetryTier | null>([[config.topics.retry, null], ...config.retry.tiers.map((tier) => [tier.topic, tier] as const)]);
    this.admission = {
      window: this.window,
      heartbeatMs: config.kafka.consumer.heartbeatIntervalMs,
      retry: config.retry,
      retrySources,
      running: () => this.lifecycle === 'running',
      admitted: (owner, message, route) => this.admit(owner, message, route),
    };
    this.admin = kafka.admin();
    this.limiter = new ConcurrencyLimiter({ ...config.concurrency, max: config.maxInFlight }, ({ limit, pacePerSec }) => {
      this.metrics.apiConcurrencyLimit.set(limit);
      this.metrics.apiPace.set(pacePerSec ?? 0);
    });
    this.breaker = new CircuitBreaker({ ...config.breaker, haltProbeMs: config.api.haltProbeMs }, (state) => this.onCircuit(state));
    this.showCircuit(this.breaker.state);
    this.processor = new RecordProcessor({
      config,
      codec: o.codec,
      api: o.api,
      breaker: this.breaker,
      limiter: this.limiter,
      metrics: this.metrics,
      logger,
      tracing: o.tracing,
      stopping: () => this.lifecycle !== 'running',
    });
    this.registry = new PartitionRegistry({
      create: (topic, partition) => this.createOwner(topic, partition),
      seek: (topic, partition, offset) => {
        this.intake.seek(topic, partition, offset);
        this.intake.resumePartition(topic, partition);
      },
      logger,
      fencedReopenMs: config.kafka.consumer.sessionTimeoutMs,
      onOwners: (count) => this.metrics.partitionsOwned.set(count),
    });
    this.intake = new Intake(
      kafka,
      {
        groupId: config.kafka.groupId,
        topics: [config.topics.requested, ...retrySources.keys()],
        ...config.kafka.consumer,
      },
      {
        onAssignment: (assignment, memberId) => {
          this.registry.assign(assignment, memberId);
          logger.info({ assignment, memberId }, 'partitions assigned');
        },
        onRejoin: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs }, 'the Kafka consumer stopped; joining the group again (partitions reopen from their committed offsets)'),
        onCrash: (error) => this.crash(error),
        onBatch: (payload) => this.onBatch(payload),
      },
    );
  }

  /** True once the consumer has joined its group, and while the vendor accepts the merchant configuration. */
  get ready(): boolean {
    return this.intake.hasJoined && this.lifecycle === 'running' && this.breaker.state !== 'halted';
  }

  /** What /healthz judges: a restart would help only if the consumer stopped polling or records stopped settling. */
  liveness(bounds: LivenessBounds): LivenessVerdict {
    return judgeLiveness(
      Date.now(),
      {
        started: this.intake.hasEverJoined,
        joined: this.intake.hasJoined,
        lastPollAt: this.intake.lastPollAt,
        inFlight: this.window.inFlight,
        lastProgressAt: this.lastProgressAt,
        circuitClosed: this.breaker.state === 'closed',
      },
      bounds,
    );
  }

  /** The partitions this instance owns right now (their lag is this instance's to report). */
  get ownedPartitions(): Array<{ topic: string; partition: number }> {
    return this.registry.all.map(({ topic, partition }) => ({ topic, partition }));
  }

  get failure(): Error | undefined {
    return this.crashed;
  }

  async start(): Promise<void> {
    const { config, codec } = this.o;
    await codec.useOutcomeSubjects(config.topics);
    this.lifecycle = 'running';
    await this.admin.connect();
    await this.intake.start();
  }

  /**
   * Stops fetching, lets admitted records finish within the grace period, commits what
   * completed and disconnects. Held retries and unfinished records stay uncommitted and are
   * consumed again by whoever owns their partitions next.
   */
  async stop(graceMs = this.o.config.shutdownGraceMs): Promise<void> {
    if (this.lifecycle === 'stopping' || this.lifecycle === 'stopped') return;
    const wasRunning = this.lifecycle === 'running';
    this.lifecycle = 'stopping';
    this.o.logger.info({ inFlight: this.window.inFlight, graceMs }, 'stopping: no new records, finishing in-flight captures');
    this.intake.pauseAll();
    const deadline = Date.now() + graceMs;
    while (wasRunning && this.window.inFlight > 0 && Date.now() < deadline) await sleep(50);
    await Promise.all(this.registry.all.map((owner) => owner.flush()));
    if (this.window.inFlight > 0) this.o.logger.warn({ inFlight: this.window.inFlight }, 'grace period over; unfinished captures will be retried by the next owner');
    await this.intake.disconnect();
    await this.registry.close();
    await this.admin.disconnect();
    this.breaker.dispose();
    this.lifecycle = 'stopped';
    this.o.logger.info('stopped');
  }

  private createOwner(topic: string, partition: number): PartitionOwner {
    const { config, kafka, logger } = this.o;
    return new PartitionOwner(topic, partition, {
      kafka,
      admin: this.admin,
      transactionalIdPrefix: config.kafka.transactionalIdPrefix,
      publisher: { groupId: config.kafka.groupId, maxRecords: config.transaction.maxRecords, lingerMs: config.transaction.lingerMs, maxBytes: config.transaction.maxBytes },
      logger,
      onCommit: (records, ms) => {
        this.metrics.commitLatency.observe(ms / 1000);
        this.metrics.transactionRecords.observe(records);
      },
      onTransaction: (delta) => this.metrics.transactionsInProgress.inc(delta),
      pause: (topic, partition) => this.setWaiting(topic, partition, true),
      resume: (topic, partition) => this.setWaiting(topic, partition, false),
      onEnded: (owner) => this.registry.ended(owner),
    });
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const owner = await this.ownerOf(topic, partition, () => payload.heartbeat());
    // No open owner (reopening after a fence or failure, or no longer ours): stop fetching it
    // rather than refetch in a loop; opening an owner resumes it.
    if (!owner) {
      this.intake.pausePartition(topic, partition);
      return;
    }
    await admitBatch(this.admission, owner, payload);
  }

  private admit(owner: PartitionOwner, message: KafkaMessage, route: RetryRoute | undefined): boolean {
    if (this.window.inFlight === 1) this.lastProgressAt = Date.now();
    const handle = owner.dispatch(message);
    if (!handle) {
      this.releaseSlot();
      return false;
    }
    handle.holdSlot(this.releaseSlot);
    this.metrics.consumed.inc({ topic: owner.topic });
    this.metrics.inFlight.set(this.window.inFlight);
    void this.guard(this.setOff(handle, route, owner.progress.wasCompletedBefore(Number(message.offset))));
    return true;
  }

  /** Sets a dispatched record on its way: skip, call, forward or dead-letter. */
  private setOff(handle: CompletionHandle, route: RetryRoute | undefined, completedBefore: boolean): Promise<void> {
    if (completedBefore) return handle.complete([]).then(() => undefined);
    if (!route) return this.processor.process(handle, { attempt: 1 });
    switch (route.kind) {
      case 'invalid':
        return this.processor.deadLetter(handle, 'BAD_RETRY_HEADERS', 'retry record without valid capture-attempt / capture-due-at / capture-first-attempt-at headers');
      case 'forward':
        return this.processor.forward(handle, route.tier);
      case 'call':
        this.metrics.retriesFired.inc();
        // Measured once the slot is held, so a full window shows up as lateness.
        this.metrics.retryFireDelay.observe(Math.max(0, Date.now() - route.dueAt) / 1000);
        return this.processor.process(handle, route);
      default:
        throw new Error(`unexpected retry route ${route.kind}`);
    }
  }

  /** The partition's owner once open; the group membership is kept alive while it opens. */
  private async ownerOf(topic: string, partition: number, heartbeat: () => Promise<void>): Promise<PartitionOwner | undefined> {
    const opening = this.registry.owner(topic, partition);
    for (;;) {
      const owner = await Promise.race([opening, sleep(this.admission.heartbeatMs).then(() => 'waiting' as const)]);
      if (owner !== 'waiting') return owner;
      await heartbeat();
    }
  }

  private setWaiting(topic: string, partition: number, waiting: boolean): void {
    if (waiting) this.intake.pausePartition(topic, partition);
    else this.intake.resumePartition(topic, partition);
    // The owners know which of them wait; an owner that ended has stopped waiting first.
    this.metrics.retryPartitionsWaiting.set(this.registry.all.filter((owner) => owner.isWaiting).length);
  }

  /** Work on a record never throws by design; if it does, the worker cannot vouch for its state. */
  private async guard(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (this.lifecycle === 'running') this.crash(error as Error);
    }
  }

  private showCircuit(state: CircuitState): void {
    for (const each of CIRCUIT_STATES) this.metrics.circuitState.set({ state: each }, each === state ? 1 : 0);
  }

  private onCircuit(state: CircuitState): void {
    this.showCircuit(state);
    if (state === 'halted') this.metrics.apiHalted.set(1);
    else if (state === 'closed') this.metrics.apiHalted.set(0);
    // After an outage the calls that waited go out a few at a time, as a new instance's would.
    if (state === 'closed') this.limiter.restart();
    this.o.logger.warn({ state }, `capture API circuit ${state}`);
  }

  private crash(error: Error): void {
    if (this.crashed) return;
    this.crashed = error;
    if (this.lifecycle === 'running' || this.lifecycle === 'created') this.lifecycle = 'crashed';
    this.o.logger.fatal({ err: error }, 'worker cannot continue; restart it (uncommitted records are consumed again)');
    this.onFatal?.(error);
  }

  /** Called once when the worker cannot go on (a consumer crash, an unexpected error). */
  onFatal?: (error: Error) => void;
}
