import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka, verifyKafka } from '../app/kafka-client';
import { loadTopicSettings, type TopicSettings } from '../config/config';
import { ConfigError, loadConnections } from '../config/connection';
import { unknownVariables } from '../config/environment';
import { EventRegistry } from '../events/registry';
import { createLogger } from '../observability/logger';

export interface CliConnection {
  kafka: Kafka;
  /** Checked: reachable, TLS trusted, credentials accepted. */
  registry: EventRegistry;
  clientId: string;
  /** Topic names, retry tiers and layout, validated as the worker validates them. */
  settings: TopicSettings;
}

/**
 * Kafka, registry and topic settings for a CLI command, from the same variables as the worker's,
 * checked before use and reported together in one ConfigError. KafkaJS's own lines go to stderr
 * (stdout carries the command's output).
 */
export async function connectCli(clientId: string, env: NodeJS.ProcessEnv = process.env): Promise<CliConnection> {
  const problems: string[] = [];
  const read = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const connections = read(() => loadConnections(env, clientId));
  const settings = read(() => loadTopicSettings(env));
  if (!connections || !settings) throw new ConfigError(problems);
  for (const warning of unknownVariables(env)) process.stderr.write(`warning: ${warning}\n`);
  const { kafka } = connections;
  const registry = new EventRegistry(connections.registry);
  await registry.verify();
  await verifyKafka(kafka);
  const level = env.LOG_LEVEL ?? 'error';
  return { kafka: createKafka(kafka, { logger: createLogger(level, pino.destination({ fd: 2, sync: true })), level }), registry, clientId: kafka.clientId, settings };
}
