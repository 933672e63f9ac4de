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
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.kafka}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${paths.kafkaData}`,
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
  ].join('\n');
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

function javaArgs(paths: StackPaths, mainClass: string, rest: string[]): string[] {
  return [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    `-Dlog4j.configuration=file:${paths.log4jConfig}`,
    '-cp',
    path.join(paths.kafkaLibs, '*'),
    mainClass,
    ...rest,
  ];
}

export async function startKafka(paths: StackPaths, ports: StackPorts, proc: ManagedProcess): Promise<void> {
  mkdirSync(path.dirname(paths.kafkaConfig), { recursive: true });
  writeFileSync(paths.kafkaConfig, brokerProperties(paths, ports));
  writeFileSync(paths.log4jConfig, LOG4J);
  if (!existsSync(path.join(paths.kafkaData, 'meta.properties'))) {
    await run('java', javaArgs(paths, 'kafka.tools.StorageTool', ['format', '-t', randomUUID(), '-c', paths.kafkaConfig, '--ignore-formatted']));
  }
  startDetached(proc, 'java', javaArgs(paths, 'kafka.Kafka', [paths.kafkaConfig]), paths.root);
  await waitUntil(`Kafka on 127.0.0.1:${ports.kafka}`, () => kafkaAnswers(ports.kafka), 90_000, proc);
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
