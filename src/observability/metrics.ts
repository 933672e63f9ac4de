import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The worker's Prometheus metrics, on a registry of its own (several workers can share a process in tests). */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly consumed = new Counter({ name: 'capture_records_consumed_total', help: 'Records taken from the request and retry topics', labelNames: ['topic'], registers: [this.registry] });
  readonly outcomes = new Counter({
    name: 'capture_outcomes_total',
    help: "Outcome events committed, by status, result code (the reference's codes and LOCAL_*; anything else is OTHER) and whether an unknown was final (retries exhausted: reconcile)",
    labelNames: ['status', 'code', 'final'],
    registers: [this.registry],
  });
  readonly endToEnd = new Histogram({
    name: 'capture_end_to_end_seconds',
    help: "From the request's requestedAt to the commit of its terminal outcome",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400],
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'capture_worker_build_info',
    help: 'Always 1: the running version, with its Node.js and KafkaJS versions',
    labelNames: ['version', 'node', 'kafkajs'],
    registers: [this.registry],
  });
  readonly apiLatency = new Histogram({
    name: 'capture_api_latency_seconds',
    help: 'Capture API call latency',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'capture_in_flight', help: 'Records admitted and not yet committed', registers: [this.registry] });
  readonly retriesScheduled = new Counter({ name: 'capture_retries_scheduled_total', help: 'Retries written to a retry tier topic', registers: [this.registry] });
  readonly retriesFired = new Counter({ name: 'capture_retries_fired_total', help: 'Retries taken off a retry topic when due', registers: [this.registry] });
  readonly retriesForwarded = new Counter({
    name: 'capture_retries_forwarded_total',
    help: 'Retry records moved to the tier they belong in (from the single retry topic of earlier releases, or due beyond their tier)',
    labelNames: ['tier'],
    registers: [this.registry],
  });
  readonly retryPartitionsWaiting = new Gauge({ name: 'capture_retry_partitions_waiting', help: 'Retry partitions paused until their next record is due', registers: [this.registry] });
  readonly retryFireDelay = new Histogram({
    name: 'capture_retry_fire_delay_seconds',
    help: 'How late a retry started after its due time (including the wait for an in-flight slot)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'capture_conflicting_requests_total',
    help: 'Requests whose captureRequestId was used before with other fields (REPEAT_REQ_INCONSISTENT): no outcome, sent to the DLQ',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({ name: 'capture_dlq_total', help: 'Records sent to the DLQ', labelNames: ['reason'], registers: [this.registry] });
  readonly consumerLag = new Gauge({
    name: 'capture_consumer_lag',
    help: "High watermark minus committed offset, for the partitions this instance owns (sum over pods is the group's lag)",
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'capture_transaction_commit_seconds',
    help: 'Kafka transaction (outcomes + offsets) commit latency',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly transactionRecords = new Histogram({
    name: 'capture_transaction_records',
    help: 'Consumed records per transaction',
    buckets: [1, 5, 10, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });
  readonly transactionsInProgress = new Gauge({ name: 'capture_transactions_in_progress', help: 'Partition transactions begun and not yet committed or aborted', registers: [this.registry] });
  readonly partitionsOwned = new Gauge({ name: 'capture_partitions_owned', help: 'Input partitions this instance owns, each with its own transactional producer', registers: [this.registry] });
  readonly apiConcurrencyLimit = new Gauge({
    name: 'capture_api_concurrency_limit',
    help: 'Adaptive limit on concurrent capture API calls (API_CONCURRENCY_MIN … MAX_IN_FLIGHT)',
    registers: [this.registry],
  });
  readonly apiPace = new Gauge({
    name: 'capture_api_pace_per_second',
    help: 'Capture API calls allowed per second while rate-limited or recovering from an outage (0: not paced)',
    registers: [this.registry],
  });
  readonly apiRateLimited = new Counter({
    name: 'capture_api_rate_limited_total',
    help: 'Capture API calls answered REQUEST_TRAFFIC_EXCEED_LIMIT (retried; they cut the concurrency limit)',
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: 'capture_circuit_state',
    help: 'API circuit breaker: 1 for the current state (closed, half-open, open, halted: the vendor refuses the merchant configuration)',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly apiHalted = new Gauge({
    name: 'capture_api_halted',
    help: '1 while capture calls are halted because the vendor refuses the merchant configuration (credentials, key version, client id); records wait uncommitted',
    registers: [this.registry],
  });
  readonly configurationRefusals = new Counter({
    name: 'capture_api_configuration_refusals_total',
    help: 'Capture API answers refusing the merchant configuration (ACCESS_DENIED, INVALID_SIGNATURE, ...): no outcome, the call halts and is probed',
    labelNames: ['code'],
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
