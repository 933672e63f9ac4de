/**
 * The baseline for bench/e2e.ts: the capture worker as a typical hand-written KafkaJS consumer
 * would do it — KafkaJS's documented `eachMessage` pattern with `partitionsConsumedConcurrently`
 * and autoCommit, one record at a time per partition: decode → sign + call (CaptureClient) →
 * encode → one plain (non-transactional) `producer.send` per outcome.
 *
 * Same building blocks as the product (EventRegistry's codec, CaptureClient, buildOutcome), so the
 * difference measured is the pipeline, not the codec or the HTTP client.
 *
 * Reads the worker's environment with the product's configuration module (loadConfig), so it runs
 * on the same brokers, registry, topics, group, keys and API timeout; KAFKA_PARTITIONS_CONCURRENCY
 * is its `partitionsConsumedConcurrently`, and one API connection per partition consumed at once.
 * Prints `baseline ready` once it has joined its group; stops on SIGTERM/SIGINT.
 */
import { CaptureClient } from '../src/api/capture-client';
import { loadPrivateKey, loadPublicKey } from '../src/api/keys';
import { createKafka } from '../src/app/kafka-client';
import { loadConfig } from '../src/config/config';
import { TOPIC_CONTRACT } from '../src/events/contract';
import { EventRegistry } from '../src/events/registry';
import { createLogger } from '../src/observability/logger';
import { buildOutcome } from '../src/pipeline/outcomes';
import { errorDetail } from './lib/errors';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const { topics } = config;
  const concurrency = config.kafka.consumer.partitionsConcurrency;
  const kafka = createKafka({ ...config.kafka, clientId: 'baseline-worker' }, { logger: createLogger(config.logLevel), level: config.logLevel });
  const { codec } = new EventRegistry(config.schemaRegistry);
  await codec.useOutcomeSubjects(topics);
  const api = new CaptureClient({
    baseUrl: config.api.baseUrl,
    clientId: config.api.clientId,
    keyVersion: config.api.keyVersion,
    privateKey: loadPrivateKey(config.api.privateKey),
    vendorPublicKey: loadPublicKey(config.api.vendorPublicKey),
    timeoutMs: config.api.timeoutMs,
    sandbox: config.api.sandbox,
    // One call at a time per partition: more connections than that would never be used.
    connections: concurrency,
  });

  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: config.kafka.groupId });
  await producer.connect();
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, () => console.log('baseline ready'));
  await consumer.subscribe({ topic: topics.requested, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: concurrency,
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      let request;
      try {
        request = await codec.decode(TOPIC_CONTRACT.requested.event, message.value);
      } catch (error) {
        console.error(`skipping undecodable record at ${message.offset}: ${(error as Error).message}`);
        return;
      }
      const startedAt = Date.now();
      const result = await api.capture({ captureRequestId: key, paymentId: request.paymentId, captureAmount: request.captureAmount });
      const outcome = buildOutcome(topics, { captureRequestId: key, request, attempt: 1, firstAttemptAt: startedAt, completedAt: Date.now() }, result, undefined);
      await producer.send({
        topic: outcome.topic,
        messages: [{ key: message.key, value: codec.encode(outcome.event.name, outcome.event.value) }],
      });
    },
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await api.close().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`baseline-worker: ${errorDetail(error)}`);
  process.exit(1);
});
