import path from 'node:path';

/** Versions of the native stack. Kafka 3.9 is the newest line KafkaJS 2.2 is proven against (see README). */
export const KAFKA_VERSION = process.env.STACK_KAFKA_VERSION ?? '3.9.1';
/** 3.0.x is the newest Apicurio line built for Java 17 (3.3 needs Java 21). */
export const APICURIO_VERSION = process.env.STACK_APICURIO_VERSION ?? '3.0.9';

export interface StackPorts {
  kafka: number;
  controller: number;
  registry: number;
  /** The secured broker (`--secure`): SASL_SSL, then SSL with client certificates, then its controller. */
  saslSsl: number;
  mutualTls: number;
  secureController: number;
  /** The registry behind TLS and authentication. */
  registryTls: number;
}

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const kafka = Number(env.STACK_KAFKA_PORT ?? 9092);
  const saslSsl = Number(env.STACK_SECURE_KAFKA_PORT ?? kafka + 2);
  return {
    kafka,
    controller: Number(env.STACK_CONTROLLER_PORT ?? kafka + 1),
    registry: Number(env.STACK_REGISTRY_PORT ?? 8081),
    saslSsl,
    mutualTls: saslSsl + 1,
    secureController: saslSsl + 2,
    registryTls: Number(env.STACK_REGISTRY_TLS_PORT ?? 8443),
  };
}

/** Everything the native stack writes lives under one ignored folder of the project. */
export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.STACK_DIR ?? path.join(__dirname, '..', '..', '.stack'));
}

export function stackPaths(root = stackDir()) {
  return {
    root,
    kafkaLibs: path.join(root, 'cache', `kafka-${KAFKA_VERSION}`),
    apicurioHome: path.join(root, 'cache', `apicurio-${APICURIO_VERSION}`),
    kafkaData: path.join(root, 'data', 'kafka'),
    kafkaConfig: path.join(root, 'data', 'kafka.properties'),
    log4jConfig: path.join(root, 'data', 'log4j.properties'),
    logs: path.join(root, 'logs'),
    pids: path.join(root, 'pids'),
    /** Made anew each time the secured parts start: certificates, credentials, broker data, proxy config. */
    secure: path.join(root, 'secure'),
  };
}

export type StackPaths = ReturnType<typeof stackPaths>;

export function brokersFor(ports: StackPorts): string {
  return `127.0.0.1:${ports.kafka}`;
}

export function registryUrlFor(ports: StackPorts): string {
  return `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`;
}
