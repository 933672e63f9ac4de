import { stackUp } from '../../tools/stack/native-stack';
import { dockerEngineAnswers, startDockerStack } from './docker-stack';

/**
 * Where the integration tests find Kafka and the registry, in this order: the environment
 * (KAFKA_BROKERS + SCHEMA_REGISTRY_URL), containers when a Docker engine answers, else the native
 * stack, started here and reused when it is already up.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) {
    console.log(`\n[integration] using KAFKA_BROKERS=${process.env.KAFKA_BROKERS} SCHEMA_REGISTRY_URL=${process.env.SCHEMA_REGISTRY_URL}`);
    return;
  }
  if (process.env.TEST_STACK !== 'native' && (await dockerEngineAnswers())) {
    console.log('\n[integration] starting Kafka and the schema registry with testcontainers');
    const stack = await startDockerStack();
    globalThis.__captureWorkerStop = () => stack.stop();
    exportEndpoints(stack.brokers, stack.registryUrl);
    return;
  }
  // The secured broker and registry proxy (test/integration/security) start alongside; TEST_SECURE_STACK=0 leaves them out.
  const secure = process.env.TEST_SECURE_STACK !== '0';
  console.log(`\n[integration] no Docker engine: using the native stack (npm run stack:up${secure ? ' -- --secure' : ''})`);
  const stack = await stackUp((line) => console.log(`[stack] ${line}`), undefined, { secure });
  if (stack.started && !process.env.KEEP_STACK) {
    const { stackDown } = await import('../../tools/stack/native-stack');
    globalThis.__captureWorkerStop = () => stackDown();
  }
  exportEndpoints(stack.brokers, stack.registryUrl);
  if (stack.secure) process.env.SECURE_STACK = JSON.stringify(stack.secure);
}

function exportEndpoints(brokers: string, registryUrl: string): void {
  // Test workers are forked after global setup and inherit this environment.
  process.env.KAFKA_BROKERS = brokers;
  process.env.SCHEMA_REGISTRY_URL = registryUrl;
}

declare global {
  var __captureWorkerStop: (() => Promise<void>) | undefined;
}
