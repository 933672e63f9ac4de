import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka, verifyKafka } from '../app/kafka-client';
import { ConfigError, loadConnections } from '../config/connection';
import { EventRegistry } from '../events/registry';
import { createLogger } from '../observability/logger';

/**
 * Kafka and registry settings for a CLI command, from the same variables as the worker's,
 * checked before use; `problems` (the command's own settings) are reported in the same
 * ConfigError. KafkaJS's own lines go to stderr (stdout carries the command's output).
 */
export async function connectCli(clientId: string, env: NodeJS.ProcessEnv = process.env, problems: string[] = []): Promise<{ kafka: Kafka; registry: EventRegistry; clientId: string }> {
  let connections;
  try {
    connections = loadConnections(env, clientId);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError([...error.problems, ...problems]) : error;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const { kafka } = connections;
  const registry = new EventRegistry(connections.registry);
  await registry.verify();
  await verifyKafka(kafka);
  const level = env.LOG_LEVEL ?? 'error';
  return { kafka: createKafka(kafka, { logger: createLogger(level, pino.destination({ fd: 2, sync: true })), level }), registry, clientId: kafka.clientId };
}
