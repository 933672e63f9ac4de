import { ensureArtifacts } from './artifacts';
import { kafkaAnswers, portOpen, startKafka } from './kafka-broker';
import { brokersFor, registryUrlFor, stackPaths, stackPorts, StackPorts } from './layout';
import { managed, runningPid, stop } from './processes';
import { registryAnswers, startRegistry } from './schema-registry';

export interface StackEndpoints {
  brokers: string;
  registryUrl: string;
}

export interface StackUpResult extends StackEndpoints {
  /** True when this call started at least one process; false when all were already up. */
  started: boolean;
}

function components(root?: string) {
  const paths = stackPaths(root);
  return { paths, kafka: managed('kafka', paths.pids, paths.logs), registry: managed('schema-registry', paths.pids, paths.logs) };
}

/** Brings the native Kafka + registry up, or reuses the ones already running: up twice = one stack. */
export async function stackUp(say: (line: string) => void = () => undefined, ports: StackPorts = stackPorts()): Promise<StackUpResult> {
  const { paths, kafka, registry } = components();
  let started = false;
  if (runningPid(kafka) === undefined) {
    await assertPortFree(ports.kafka, 'Kafka', 'STACK_KAFKA_PORT');
    await ensureArtifacts(paths, say);
    say(`starting Kafka on 127.0.0.1:${ports.kafka} (log: ${kafka.logFile})`);
    await startKafka(paths, ports, kafka);
    started = true;
  } else {
    say('Kafka already running');
  }
  if (runningPid(registry) === undefined) {
    await assertPortFree(ports.registry, 'the schema registry', 'STACK_REGISTRY_PORT');
    await ensureArtifacts(paths, say);
    say(`starting the schema registry on 127.0.0.1:${ports.registry} (log: ${registry.logFile})`);
    await startRegistry(paths, ports, registry);
    started = true;
  } else {
    say('schema registry already running');
  }
  return { brokers: brokersFor(ports), registryUrl: registryUrlFor(ports), started };
}

export async function stackDown(say: (line: string) => void = () => undefined): Promise<void> {
  const { registry, kafka } = components();
  for (const proc of [registry, kafka]) {
    say(`${proc.name}: ${(await stop(proc)) ? 'stopped' : 'was not running'}`);
  }
}

export interface ComponentStatus {
  name: string;
  pid?: number;
  ready: boolean;
  log: string;
}

export async function stackStatus(ports: StackPorts = stackPorts()): Promise<ComponentStatus[]> {
  const { kafka, registry } = components();
  return [
    { name: kafka.name, pid: runningPid(kafka), ready: await kafkaAnswers(ports.kafka).catch(() => false), log: kafka.logFile },
    { name: registry.name, pid: runningPid(registry), ready: await registryAnswers(ports).catch(() => false), log: registry.logFile },
  ];
}

async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  if (await portOpen(port)) {
    throw new Error(`port ${port} for ${what} is taken by a process this stack did not start; stop it or set ${variable}`);
  }
}
