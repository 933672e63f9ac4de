import { toEnv, type SettingValues } from '../src/config/environment';
import { topicEnv, type TopicNames } from '../src/events/contract';

/** A key as its PEM text or as a file the worker reads. */
export type KeyValue = { pem: string } | { file: string };

export interface SandboxWorker {
  brokers: string;
  registryUrl: string;
  sandboxUrl: string;
  /** The client id the sandbox expects. */
  clientId: string;
  merchantPrivateKey: KeyValue;
  /** The sandbox's response-signing key. */
  sandboxPublicKey: KeyValue;
  topics: TopicNames;
  groupId: string;
}

const key = (name: 'ANTOM_PRIVATE_KEY' | 'ANTOM_PUBLIC_KEY', value: KeyValue): SettingValues => ('pem' in value ? { [name]: value.pem } : { [`${name}_FILE`]: value.file });

/**
 * The environment of a worker in front of the capture sandbox, as tests, benches and the demo
 * start theirs: only what differs between them is passed as `settings`, and every name is a
 * setting the compiler knows.
 */
export function sandboxWorkerEnv(worker: SandboxWorker, settings: SettingValues = {}): Record<string, string> {
  return toEnv({
    KAFKA_BROKERS: worker.brokers,
    SCHEMA_REGISTRY_URL: worker.registryUrl,
    ANTOM_BASE_URL: worker.sandboxUrl,
    ANTOM_SANDBOX: true,
    ANTOM_CLIENT_ID: worker.clientId,
    ...key('ANTOM_PRIVATE_KEY', worker.merchantPrivateKey),
    ...key('ANTOM_PUBLIC_KEY', worker.sandboxPublicKey),
    GROUP_ID: worker.groupId,
    ...topicEnv(worker.topics),
    HTTP_PORT: 0,
    ...settings,
  });
}
