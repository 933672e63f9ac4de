import { z } from 'zod';
import { retryTiers, topicNames } from '../config/config';
import { ensureTopics } from '../app/topics';
import { productSchemas, registerSchemas } from '../events/schema-registration';
import { connectCli } from './connect';

// The same defaults as the worker's configuration (production: 3 replicas, 2 in sync).
const env = z.object({
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(12),
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(3),
  TOPIC_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).default(2),
});

/** One-shot: creates the missing topics and registers every schema under `<topic>-value`. */
export async function runInit(): Promise<void> {
  const settings = env.parse(process.env);
  const topics = topicNames();
  // Registry credentials and CA are checked before any topic is created.
  const { kafka, registry } = await connectCli('capture-worker-init');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, [...Object.values(topics), ...retryTiers().map((tier) => tier.topic)], {
      partitions: settings.TOPIC_PARTITIONS,
      replicationFactor: settings.TOPIC_REPLICATION_FACTOR,
      minInsyncReplicas: settings.TOPIC_MIN_INSYNC_REPLICAS,
    });
    console.log(created.length ? `created topics: ${created.join(', ')}` : 'all topics exist');
  } finally {
    await admin.disconnect();
  }
  for (const { subject, id } of await registerSchemas(registry, productSchemas(topics))) {
    console.log(`registered ${subject} (id ${id})`);
  }
}
