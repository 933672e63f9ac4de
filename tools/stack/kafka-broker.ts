import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { StackPaths, StackPorts } from './layout';
import { ManagedProcess, startDetached, waitUntil } from './processes';

const run = promisify(execFile);

/** A single-node KRaft broker on loopback, sized for tests (replication 1, no initial rebalance delay). */
function brokerProperties(paths: StackPaths, ports: StackPorts): string {
  return [
    `listeners=PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.kafka}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    ...singleNode(paths.kafkaData, ports.controller),
  ].join('\n');
}

/** What every broker of the stack shares: one KRaft node that is its own controller, sized for tests. */
export function singleNode(dataDir: string, controllerPort: number): string[] {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=12',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=12',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'message.max.bytes=1048588',
    '',
  ];
}

const LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=INFO',
  'log4j.logger.org.apache.kafka=WARN',
  '',
].join('\n');

function javaArgs(paths: StackPaths, mainClass: string, rest: string[], maxHeap = '768m'): string[] {
  return ['-Xms256m', `-Xmx${maxHeap}`, '-XX:+UseG1GC', `-Dlog4j.configuration=file:${paths.log4jConfig}`, '-cp', path.join(paths.kafkaLibs, '*'), mainClass, ...rest];
}

export async function startKafka(paths: StackPaths, ports: StackPorts, proc: ManagedProcess): Promise<void> {
  await runBroker(paths, proc, {
    what: `Kafka on 127.0.0.1:${ports.kafka}`,
    configFile: paths.kafkaConfig,
    properties: brokerProperties(paths, ports),
    dataDir: paths.kafkaData,
    ready: () => kafkaAnswers(ports.kafka),
  });
}

export interface BrokerLaunch {
  what: string;
  configFile: string;
  properties: string;
  dataDir: string;
  /** More `kafka-storage format` arguments (SCRAM credentials are written at format time). */
  formatArgs?: string[];
  maxHeap?: string;
  ready: () => Promise<boolean>;
}

/** Writes the broker's config, formats its storage when new, starts it and waits until `ready`. */
export async function runBroker(paths: StackPaths, proc: ManagedProcess, launch: BrokerLaunch): Promise<void> {
  mkdirSync(path.dirname(launch.configFile), { recursive: true });
  writeFileSync(launch.configFile, launch.properties);
  writeFileSync(paths.log4jConfig, LOG4J);
  if (!existsSync(path.join(launch.dataDir, 'meta.properties'))) {
    await run('java', javaArgs(paths, 'kafka.tools.StorageTool', ['format', '-t', randomUUID(), '-c', launch.configFile, '--ignore-formatted', ...(launch.formatArgs ?? [])]));
  }
  startDetached(proc, 'java', javaArgs(paths, 'kafka.Kafka', [launch.configFile], launch.maxHeap), paths.root);
  await waitUntil(launch.what, launch.ready, 90_000, proc);
}

export async function kafkaAnswers(port: number): Promise<boolean> {
  if (!(await portOpen(port))) return false;
  const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect();
  }
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
