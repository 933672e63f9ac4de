import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const counter = (registry: Registry, name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: [registry] });
const gauge = (registry: Registry, name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
const histogram = (registry: Registry, name: string, help: string, buckets: number[], labelNames: string[] = []) => new Histogram({ name, help, buckets, labelNames, registers: [registry] });

/** The worker's Prometheus metrics, on a registry of its own (several workers can share a process in tests). */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly consumed = counter(this.registry, 'capture_records_consumed_total', 'Records taken from the request and retry topics', ['topic']);
  readonly outcomes = counter(
    this.registry,
    'capture_outcomes_total',
    "Outcome events committed, by status, result code (the reference's codes and LOCAL_*; anything else is OTHER) and whether an unknown was final (retries exhausted: reconcile)",
    ['status', 'code', 'final'],
  );
  readonly endToEnd = histogram(
    this.registry,
    'capture_end_to_end_seconds',
    "From the request's requestedAt to the commit of its terminal outcome",
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400],
  );
  readonly buildInfo = gauge(this.registry, 'capture_worker_build_info', 'Always 1: the running version, with its Node.js and KafkaJS versions', ['version', 'node', 'kafkajs']);
  readonly apiLatency = histogram(this.registry, 'capture_api_latency_seconds', 'Capture API call latency', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], ['status']);
  readonly inFlight = gauge(this.registry, 'capture_in_flight', 'Records admitted and not yet committed');
  readonly retriesScheduled = counter(this.registry, 'capture_retries_scheduled_total', 'Retries written to a retry tier topic');
  readonly retriesFired = counter(this.registry, 'capture_retries_fired_total', 'Retries taken off a retry topic when due');
  readonly retriesForwarded = counter(
    this.registry,
    'capture_retries_forwarded_total',
    'Retry records moved to the tier they belong in (from the single retry topic of earlier releases, or due beyond their tier)',
    ['tier'],
  );
  readonly retryPartitionsWaiting = gauge(this.registry, 'capture_retry_partitions_waiting', 'Retry partitions paused until their next record is due');
  readonly retryFireDelay = histogram(
    this.registry,
    'capture_retry_fire_delay_seconds',
    'How late a retry started after its due time (including the wait for an in-flight slot)',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  );
  readonly conflicts = counter(
    this.registry,
    'capture_conflicting_requests_total',
    'Requests whose captureRequestId was used before with other fields (REPEAT_REQ_INCONSISTENT): no outcome, sent to the DLQ',
  );
  readonly deadLettered = counter(this.registry, 'capture_dlq_total', 'Records sent to the DLQ', ['reason']);
  readonly consumerLag = gauge(this.registry, 'capture_consumer_lag', "High watermark minus committed offset, for the partitions this instance owns (sum over pods is the group's lag)", [
    'topic',
    'partition',
  ]);
  readonly commitLatency = histogram(this.registry, 'capture_transaction_commit_seconds', 'Kafka transaction (outcomes + offsets) commit latency', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]);
  readonly transactionRecords = histogram(this.registry, 'capture_transaction_records', 'Consumed records per transaction', [1, 5, 10, 50, 100, 250, 500, 1000]);
  readonly transactionsInProgress = gauge(this.registry, 'capture_transactions_in_progress', 'Partition transactions begun and not yet committed or aborted');
  readonly partitionsOwned = gauge(this.registry, 'capture_partitions_owned', 'Input partitions this instance owns, each with its own transactional producer');
  readonly apiConcurrencyLimit = gauge(this.registry, 'capture_api_concurrency_limit', 'Adaptive limit on concurrent capture API calls (API_CONCURRENCY_MIN … MAX_IN_FLIGHT)');
  readonly apiPace = gauge(this.registry, 'capture_api_pace_per_second', 'Capture API calls allowed per second while rate-limited or recovering from an outage (0: not paced)');
  readonly apiRateLimited = counter(this.registry, 'capture_api_rate_limited_total', 'Capture API calls answered REQUEST_TRAFFIC_EXCEED_LIMIT (retried; they cut the concurrency limit)');
  readonly circuitState = gauge(
    this.registry,
    'capture_circuit_state',
    'API circuit breaker: 1 for the current state (closed, half-open, open, halted: the vendor refuses the merchant configuration)',
    ['state'],
  );
  readonly apiHalted = gauge(
    this.registry,
    'capture_api_halted',
    '1 while capture calls are halted because the vendor refuses the merchant configuration (credentials, key version, client id); records wait uncommitted',
  );
  readonly configurationRefusals = counter(
    this.registry,
    'capture_api_configuration_refusals_total',
    'Capture API answers refusing the merchant configuration (ACCESS_DENIED, INVALID_SIGNATURE, ...): no outcome, the call halts and is probed',
    ['code'],
  );

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
