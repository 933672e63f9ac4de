import { settingSpec, SETTING_NAMES, type SettingName } from './settings';

/**
 * The environment as the settings table sees it: the variables that look like settings but are
 * none (a typo silently falling back to a default is how a production worker ends up with 12
 * retries instead of 3), and the reverse, typed settings turned into an environment.
 */

const KNOWN = new Set<string>(SETTING_NAMES.flatMap((name) => (settingSpec(name).file ? [name, `${name}_FILE`] : [name])));
// Prefixes only this product uses; other variables are flagged only when close to a setting's name.
// OTEL_* is left out: the OpenTelemetry SDK reads many more of them itself.
const PREFIXES = ['ANTOM', 'KAFKA', 'SCHEMA', 'API', 'RETRY', 'TOPIC', 'TRANSACTION', 'TRANSACTIONAL', 'BREAKER', 'LIVENESS'];
// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_PORT_9092_TCP_ADDR, ... for every Service
// of the namespace: a Service called `kafka` is not a typo of a setting.
const SERVICE_LINK = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?)$/;

/** One line per variable that shares a setting's prefix but is not one, with the nearest name. */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => !KNOWN.has(name) && !name.startsWith('OTEL_') && !SERVICE_LINK.test(name))
    .map((name) => ({ name, nearest: nearestSetting(name) }))
    .filter(({ name, nearest }) => nearest || PREFIXES.includes(name.split('_')[0]))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ name, nearest }) => `${name}: not a setting of capture-worker, ignored${nearest ? ` (did you mean ${nearest}?)` : ''}`);
}

function nearestSetting(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN) {
    const distance = editDistance(name, known);
    if (distance <= (known.length > 16 ? 3 : 2) && (!best || distance < best.distance)) best = { name: known, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

type SettingValue = string | number | boolean | readonly string[];
export type SettingValues = Partial<Record<SettingName | `${SettingName}_FILE`, SettingValue | undefined>>;

/**
 * Settings as environment variables, for processes that start a worker or a CLI (tests, bench,
 * demo): names are checked by the compiler, lists are joined as KAFKA_BROKERS expects them, and
 * undefined values are left out.
 */
export function toEnv(values: SettingValues): Record<string, string> {
  const env: Record<string, string> = {};
  // Partial: a name may be present with the value undefined.
  for (const [name, value] of Object.entries(values) as Array<[string, SettingValue | undefined]>) {
    if (value === undefined) continue;
    env[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}
