import { generateKeyPair } from '../../src/api/keys';
import type { TopicNames } from '../../src/events/contract';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../tools/sandbox/server';
import type { SandboxWorker } from '../../tools/worker-env';

export interface TestSandbox {
  sandbox: Sandbox;
  /** A worker that calls this sandbox as TEST_CLIENT with the merchant key it knows. */
  worker(connection: { brokers: string; registryUrl: string }, topics: TopicNames & { group: string }): SandboxWorker;
}

/** The capture sandbox in this process, trusting a merchant key made for it. */
export async function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const merchant = await generateKeyPair();
  const sandbox = await startSandbox({ port: 0, merchantPublicKey: merchant.publicKey, ...options });
  return {
    sandbox,
    worker: (connection, topics) => ({
      ...connection,
      sandboxUrl: sandbox.url,
      clientId: 'TEST_CLIENT',
      merchantPrivateKey: { pem: merchant.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
      sandboxPublicKey: { pem: sandbox.publicKey.export({ format: 'pem', type: 'spki' }).toString() },
      topics,
      groupId: topics.group,
    }),
  };
}
