/**
 * The baseline for bench/e2e.ts: the capture worker as a typical hand-written KafkaJS consumer
 * would do it — KafkaJS's documented `eachMessage` pattern with `partitionsConsumedConcurrently`
 * and autoCommit, one record at a time per partition: decode → sign + call (CaptureClient) →
 * encode → one plain (non-transactional) `producer.send` per outcome.
 *
 * Same building blocks as the product (EventCodec, CaptureClient, buildOutcome), so the
 * difference measured is the pipeline, not the codec or the HTTP client.
 *
 * Env: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, ANTOM_BASE_URL, ANTOM_CLIENT_ID, ANTOM_PRIVATE_KEY_FILE,
 * ANTOM_PUBLIC_KEY_FILE, GROUP_ID, TOPIC_REQUESTED/SUCCEEDED/FAILED/UNKNOWN, PARTITIONS_CONCURRENTLY.
 * Prints `baseline ready` once it has joined its group; stops on SIGTERM/SIGINT.
 */
import { Kafka, logLevel } from 'kafkajs';
import { CaptureClient } from '../src/api/capture-client';
import { loadPrivateKey, loadPublicKey } from '../src/api/keys';
import type { TopicNames } from '../src/config/config';
import { EventCodec } from '../src/events/event-codec';
import { buildOutcome } from '../src/pipeline/outcomes';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const concurrency = Number(process.env.PARTITIONS_CONCURRENTLY ?? '1');
  const topics: TopicNames = {
    requested: required('TOPIC_REQUESTED'),
    succeeded: required('TOPIC_SUCCEEDED'),
    failed: required('TOPIC_FAILED'),
    unknown: required('TOPIC_UNKNOWN'),
    retry: process.env.TOPIC_RETRY ?? 'unused',
    dlq: process.env.TOPIC_DLQ ?? 'unused',
  };
  const kafka = new Kafka({ clientId: 'baseline-worker', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.WARN });
  const codec = EventCodec.forUrl(required('SCHEMA_REGISTRY_URL'));
  await codec.useSubject('CaptureSucceeded', topics.succeeded);
  await codec.useSubject('CaptureFailed', topics.failed);
  await codec.useSubject('CaptureUnknown', topics.unknown);
  const api = new CaptureClient({
    baseUrl: required('ANTOM_BASE_URL'),
    clientId: required('ANTOM_CLIENT_ID'),
    privateKey: loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY_FILE', file: required('ANTOM_PRIVATE_KEY_FILE') }),
    vendorPublicKey: loadPublicKey({ name: 'ANTOM_PUBLIC_KEY_FILE', file: required('ANTOM_PUBLIC_KEY_FILE') }),
    timeoutMs: 10_000,
    sandbox: process.env.ANTOM_SANDBOX === 'true',
    // One call at a time per partition: more connections than that would never be used.
    connections: concurrency,
  });

  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: required('GROUP_ID') });
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
        request = await codec.decode('CaptureRequested', message.value);
      } catch (error) {
        console.error(`skipping undecodable record at ${message.offset}: ${(error as Error).message}`);
        return;
      }
      const startedAt = Date.now();
      const result = await api.capture({ captureRequestId: key, paymentId: request.paymentId, captureAmount: request.captureAmount });
      const outcome = buildOutcome(topics, { captureRequestId: key, request, attempt: 1, firstAttemptAt: startedAt, completedAt: Date.now() }, result, undefined);
      await producer.send({
        topic: outcome.topic,
        messages: [{ key: message.key, value: codec.encode(outcome.event.name, outcome.event.value as never) }],
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

main().catch((error: Error) => {
  console.error(`baseline-worker: ${error.stack ?? error.message}`);
  process.exit(1);
});
