import { KafkaContainer, StartedKafkaContainer } from '@testcontainers/kafka';
import { GenericContainer, getContainerRuntimeClient, Network, StartedNetwork, StartedTestContainer, Wait } from 'testcontainers';

/** Kafka and Confluent's schema registry in containers, for machines where a Docker engine answers. */
export interface DockerStack {
  brokers: string;
  registryUrl: string;
  stop(): Promise<void>;
}

export async function dockerEngineAnswers(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 5000)));
  try {
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function startDockerStack(): Promise<DockerStack> {
  const network: StartedNetwork = await new Network().start();
  const kafka: StartedKafkaContainer = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().withNetwork(network).withNetworkAliases('kafka').start();
  const registry: StartedTestContainer = await new GenericContainer('confluentinc/cp-schema-registry:7.9.0')
    .withNetwork(network)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
    })
    .withExposedPorts(8081)
    .withWaitStrategy(Wait.forHttp('/subjects', 8081))
    .start();
  return {
    brokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
    async stop() {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}
