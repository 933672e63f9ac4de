/**
 * Does the worker accept these settings? Runs the worker's own validation (src/config/config.ts,
 * the code that runs at start) on environments the deployment files render: the Helm chart's
 * ConfigMap, docker-compose's worker environment.
 *
 * Usage: tsx .ci/checks/app-config-check.ts envs.json   ({"label": {"NAME": "value", ...}, ...})
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/config/config';

const envs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, Record<string, string>>;
let failed = 0;
for (const [label, env] of Object.entries(envs)) {
  try {
    // Shape only: the secret mounts (*_FILE paths) exist in the pods, not here.
    const config = loadConfig(env, { readFiles: false });
    console.log(`  the worker accepts ${label}: brokers ${config.kafka.brokers.join(',')}, group ${config.kafka.groupId}, http :${config.httpPort}`);
  } catch (error) {
    failed++;
    console.log(`  ERROR the worker rejects ${label}: ${error instanceof ConfigError ? error.message : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
