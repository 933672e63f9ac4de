import { z } from 'zod';
import { retryTiers, topicNames } from '../config/config';
import { ensureTopics } from '../app/topics';
import { withAdmin } from './admin';
import { connectCli } from './connect';
import { parseCommand } from './usage';

export const initCommand = {
  name: 'init',
  usage: `usage: capture-worker init
  Creates the missing topics (TOPIC_*, the retry tiers of RETRY_TIERS) with TOPIC_PARTITIONS
  (12), TOPIC_REPLICATION_FACTOR (3) and TOPIC_MIN_INSYNC_REPLICAS (2), and registers every
  event schema under <topic>-value (BACKWARD-checked). Needs KAFKA_BROKERS and
  SCHEMA_REGISTRY_URL (and their security settings); exits 78 on a configuration error.`,
  options: {},
} as const;

// The same defaults as the worker's configuration (production: 3 replicas, 2 in sync).
const layout = z.object({
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(12),
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(3),
  TOPIC_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).default(2),
});

/** The topic layout, or its problems by variable name (values are not echoed). */
export function topicLayout(env: NodeJS.ProcessEnv): { settings?: z.infer<typeof layout>; problems: string[] } {
  const parsed = layout.safeParse(env);
  if (parsed.success) return { settings: parsed.data, problems: [] };
  return { problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) };
}

/** One-shot: creates the missing topics and registers every schema under `<topic>-value`. */
export async function runInit(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!parseCommand(initCommand, args)) return;
  const { settings, problems } = topicLayout(env);
  const topics = topicNames(env);
  let tiers: string[] = [];
  try {
    tiers = retryTiers(env).map((tier) => tier.topic);
  } catch (error) {
    problems.push(`RETRY_TIERS: ${(error as Error).message}`);
  }
  // Registry credentials and CA are checked before any topic is created.
  const { kafka, registry } = await connectCli('capture-worker-init', env, problems);
  const created = await withAdmin(kafka, (admin) =>
    ensureTopics(admin, [...Object.values(topics), ...tiers], {
      partitions: settings!.TOPIC_PARTITIONS,
      replicationFactor: settings!.TOPIC_REPLICATION_FACTOR,
      minInsyncReplicas: settings!.TOPIC_MIN_INSYNC_REPLICAS,
    }),
  );
  console.log(created.length ? `created topics: ${created.join(', ')}` : 'all topics exist');
  try {
    for (const { subject, id } of await registry.registerEvents(topics)) console.log(`registered ${subject} (id ${id})`);
  } finally {
    await registry.close();
  }
}
