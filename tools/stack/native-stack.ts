import { ensureArtifacts } from './artifacts';
import { kafkaAnswers, portOpen, startKafka } from './kafka-broker';
import { brokersFor, registryUrlFor, stackPaths, stackPorts, StackPorts } from './layout';
import { managed, runningPid, stop } from './processes';
import { registryAnswers, startRegistry } from './schema-registry';
import { readSecureStack, SecureStack, secureBrokerAnswers, startSecure } from './secure-stack';

export interface StackEndpoints {
  brokers: string;
  registryUrl: string;
}

export interface StackUpResult extends StackEndpoints {
  /** True when this call started at least one process; false when all were already up. */
  started: boolean;
  /** With `secure`: the secured broker and registry proxy, and whether this call started them. */
  secure?: SecureStack;
  secureStarted?: boolean;
}

function components(root?: string) {
  const paths = stackPaths(root);
  const proc = (name: string) => managed(name, paths.pids, paths.logs);
  return { paths, kafka: proc('kafka'), registry: proc('schema-registry'), secure: { broker: proc('kafka-secure'), proxy: proc('registry-tls') } };
}

/**
 * Brings the native Kafka + registry up, or reuses the ones already running: up twice = one
 * stack. `secure` adds the secured broker and the registry's TLS proxy (see secure-stack.ts),
 * started while the registry starts; the plain listener stays as it is.
 */
export async function stackUp(say: (line: string) => void = () => undefined, ports: StackPorts = stackPorts(), options: { secure?: boolean } = {}): Promise<StackUpResult> {
  const { paths, kafka, registry, secure } = components();
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
  const registryUp = async () => {
    if (runningPid(registry) === undefined) {
      await assertPortFree(ports.registry, 'the schema registry', 'STACK_REGISTRY_PORT');
      await ensureArtifacts(paths, say);
      say(`starting the schema registry on 127.0.0.1:${ports.registry} (log: ${registry.logFile})`);
      await startRegistry(paths, ports, registry);
      started = true;
    } else {
      say('schema registry already running');
    }
  };
  const secureUp = async (): Promise<{ stack: SecureStack; started: boolean } | undefined> => {
    if (!options.secure) return undefined;
    const running = readSecureStack(paths, secure);
    if (running && (await secureBrokerAnswers(running).catch(() => false))) {
      say('secured broker and registry proxy already running');
      return { stack: running, started: false };
    }
    if (runningPid(secure.broker) === undefined && runningPid(secure.proxy) === undefined) {
      await assertPortFree(ports.saslSsl, 'the secured broker', 'STACK_SECURE_KAFKA_PORT');
      await assertPortFree(ports.mutualTls, 'the secured broker', 'STACK_SECURE_KAFKA_PORT');
      await assertPortFree(ports.registryTls, 'the registry TLS proxy', 'STACK_REGISTRY_TLS_PORT');
    }
    await ensureArtifacts(paths, say);
    return { stack: await startSecure(paths, ports, secure, say), started: true };
  };
  const [, securing] = await Promise.all([registryUp(), secureUp()]);
  return { brokers: brokersFor(ports), registryUrl: registryUrlFor(ports), started, secure: securing?.stack, secureStarted: securing?.started };
}

/** The running secured parts, for tests and `stack:status --secure`; undefined when they are not up. */
export function secureStack(): SecureStack | undefined {
  const { paths, secure } = components();
  return readSecureStack(paths, secure);
}

export async function stackDown(say: (line: string) => void = () => undefined): Promise<void> {
  const { registry, kafka, secure } = components();
  for (const proc of [secure.proxy, secure.broker, registry, kafka]) {
    say(`${proc.name}: ${(await stop(proc)) ? 'stopped' : 'was not running'}`);
  }
}

export interface ComponentStatus {
  name: string;
  pid?: number;
  ready: boolean;
  log: string;
}

/** The plain parts, and the secured ones when asked for or running. */
export async function stackStatus(ports: StackPorts = stackPorts(), options: { secure?: boolean } = {}): Promise<ComponentStatus[]> {
  const { kafka, registry, secure, paths } = components();
  const rows = [
    { name: kafka.name, pid: runningPid(kafka), ready: await kafkaAnswers(ports.kafka).catch(() => false), log: kafka.logFile },
    { name: registry.name, pid: runningPid(registry), ready: await registryAnswers(ports).catch(() => false), log: registry.logFile },
  ];
  if (!options.secure && runningPid(secure.broker) === undefined && runningPid(secure.proxy) === undefined) return rows;
  const described = readSecureStack(paths, secure);
  return [
    ...rows,
    { name: secure.broker.name, pid: runningPid(secure.broker), ready: described ? await secureBrokerAnswers(described).catch(() => false) : false, log: secure.broker.logFile },
    { name: secure.proxy.name, pid: runningPid(secure.proxy), ready: described ? await portOpen(ports.registryTls) : false, log: secure.proxy.logFile },
  ];
}

async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  if (await portOpen(port)) {
    throw new Error(`port ${port} for ${what} is taken by a process this stack did not start; stop it or set ${variable}`);
  }
}
