import { readFileSync } from 'node:fs';
import { CaptureClient } from '../api/capture-client';
import { CAPTURE_PATH } from '../api/types';
import { packageVersion } from './version';
import { loadPrivateKey, loadPublicKey } from '../api/keys';
import type { WorkerConfig } from '../config/config';
import { EventRegistry } from '../events/registry';
import { createKafka, verifyKafka } from './kafka-client';
import { createLogger, Logger } from '../observability/logger';
import { startHealthServer } from '../observability/http-server';
import { WorkerMetrics } from '../observability/metrics';
import { CaptureWorker } from '../pipeline/capture-worker';
import { startLagReporter } from '../observability/lag-reporter';
import { Tracing } from '../observability/tracing';

function kafkajsVersion(): string {
  try {
    return (JSON.parse(readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface RunningWorker {
  worker: CaptureWorker;
  healthPort: number;
  logger: Logger;
  stop(): Promise<void>;
}

/** Wires configuration into a running worker with its health and metrics endpoint. */
/** `onFatal` is wired before the consumer joins its group: a crash during the first join must end the process too. */
export async function startWorkerApp(config: WorkerConfig, onFatal?: (error: Error) => void): Promise<RunningWorker> {
  const version = packageVersion();
  const logger = createLogger(config.logLevel, undefined, version);
  // Keys are parsed once, here: a malformed key stops the start with the variable's name.
  const privateKey = loadPrivateKey(config.api.privateKey);
  const vendorPublicKey = loadPublicKey(config.api.vendorPublicKey);
  // A wrong credential, CA or certificate ends the start here, with a message naming the setting.
  const registry = new EventRegistry(config.schemaRegistry);
  await registry.verify();
  // A broker that is down (restarting, a rolling upgrade) is waited for longer than a CLI waits:
  // exiting would only put the pod into restart backoff.
  await verifyKafka(config.kafka, { timeoutMs: config.kafkaStartTimeoutMs });
  const kafka = createKafka(config.kafka, { logger, level: config.logLevel });
  const api = new CaptureClient({
    baseUrl: config.api.baseUrl,
    clientId: config.api.clientId,
    keyVersion: config.api.keyVersion,
    privateKey,
    vendorPublicKey,
    timeoutMs: config.api.timeoutMs,
    connections: config.api.connections,
    sandbox: config.api.sandbox,
  });
  const metrics = new WorkerMetrics(true);
  metrics.buildInfo.set({ version, node: process.version, kafkajs: kafkajsVersion() }, 1);
  const tracing = Tracing.start(config.tracing, { version, apiUrl: config.api.baseUrl, path: CAPTURE_PATH });
  const worker = new CaptureWorker({ config, kafka, codec: registry.codec, api, logger, metrics, tracing });
  worker.onFatal = onFatal;
  const health = await startHealthServer(config.httpPort, {
    registry: metrics.registry,
    alive: () => worker.liveness(config.liveness),
    ready: async () => worker.ready && (await registry.reachable()),
  });
  const lag = startLagReporter(kafka, config, metrics, () => worker.ownedPartitions);
  // A misspelt variable falls back to its default: said once, loudly, at start.
  for (const warning of config.warnings) logger.warn(warning);
  logger.info(
    {
      tracing: tracing.enabled,
      brokers: config.kafka.brokers,
      groupId: config.kafka.groupId,
      transactionalIdPrefix: config.kafka.transactionalIdPrefix,
      maxInFlight: config.maxInFlight,
      healthPort: health.port,
    },
    'starting capture worker',
  );
  await worker.start();
  return {
    worker,
    healthPort: health.port,
    logger,
    async stop() {
      await worker.stop();
      lag.stop();
      await api.close();
      await new Promise((resolve) => health.close(resolve));
      await registry.close();
      await tracing.shutdown();
    },
  };
}
