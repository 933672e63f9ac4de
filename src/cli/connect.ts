import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka, verifyKafka } from '../app/kafka-client';
import { loadConnections, RegistryConnection } from '../config/connection';
import { RegistryHttp } from '../events/registry-http';
import { createLogger } from '../observability/logger';

/**
 * Kafka and registry settings for a CLI command, from the same variables as the worker's,
 * checked before use. KafkaJS's own lines go to stderr (stdout carries the command's output).
 */
export async function connectCli(clientId: string): Promise<{ kafka: Kafka; registry: RegistryConnection }> {
  const { kafka, registry } = loadConnections(process.env, clientId);
  const http = new RegistryHttp(registry);
  await http.verify().finally(() => http.close());
  await verifyKafka(kafka);
  const level = process.env.LOG_LEVEL ?? 'error';
  return { kafka: createKafka(kafka, { logger: createLogger(level, pino.destination({ fd: 2, sync: true })), level }), registry };
}
