/** The worker's own defaults, read from its configuration module, so a bench can say how far a run is from them. */
import { loadConfig } from '../../src/config/config';
import { toEnv } from '../../src/config/environment';

export interface ProductDefaults {
  /** TOPIC_PARTITIONS */
  partitions: number;
  /** MAX_IN_FLIGHT */
  maxInFlight: number;
  /** API_CONNECTIONS (defaults to MAX_IN_FLIGHT) */
  connections: number;
}

export function productDefaults(): ProductDefaults {
  // Only the required settings, with placeholder values: everything else takes its default.
  const config = loadConfig(
    toEnv({
      KAFKA_BROKERS: '127.0.0.1:9092',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
      ANTOM_BASE_URL: 'http://127.0.0.1:1',
      ANTOM_SANDBOX: true,
      ANTOM_CLIENT_ID: 'defaults',
      ANTOM_PRIVATE_KEY: 'unused',
      ANTOM_PUBLIC_KEY: 'unused',
    }),
    { readFiles: false },
  );
  return { partitions: config.topicLayout.partitions, maxInFlight: config.maxInFlight, connections: config.api.connections };
}
