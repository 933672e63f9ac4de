import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { unknownVariables } from '../../../src/config/environment';
import { SETTINGS, settingSpec, type SettingName } from '../../../src/config/settings';
import { readmeTable, README, renderTable, TABLES } from '../../../tools/settings-table';

/**
 * The settings table (src/config/settings.ts) against every place that restates it: the README's
 * tables, the Helm chart's defaults and schema bounds, docker-compose's worker environment.
 */

const ROOT = path.join(__dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'helm', 'capture-worker');
const read = (file: string) => readFileSync(file, 'utf8');
const isSetting = (name: string): name is SettingName => name in SETTINGS;
/** The setting a derived default comes from (API_CONNECTIONS: MAX_IN_FLIGHT). */
const derivedFrom = (name: SettingName) => settingSpec(name).shown?.match(/^`([A-Z_]+)`$/)?.[1] as SettingName | undefined;

interface SchemaNode {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
}

/** NAME -> values path under `config`, from the chart's `capture-worker.settings` template. */
function chartSettings(): Map<string, string[]> {
  const template = read(path.join(CHART, 'templates', '_helpers.tpl'));
  const block = template.slice(template.indexOf('{{- define "capture-worker.settings" -}}'), template.indexOf('{{- define "capture-worker.connectionSettings" -}}'));
  const mapped = new Map<string, string[]>();
  const scopes: Array<string[] | undefined> = [];
  for (const line of block.split('\n')) {
    const opened = line.match(/\{\{-? (with|if|range)\b(?: \$c\.([\w.]+))?/);
    if (opened) scopes.push(opened[1] === 'with' && opened[2] ? opened[2].split('.') : undefined);
    if (/\{\{-? end\b/.test(line)) scopes.pop();
    const value = line.match(/^([A-Z][A-Z0-9_]+): \{\{ (\$c\.([\w.]+)|\.(\w+))\b/);
    if (!value) continue;
    const scope = scopes.filter(Boolean).at(-1) ?? [];
    mapped.set(value[1], value[3] ? value[3].split('.') : [...scope, value[4]]);
  }
  return mapped;
}

const at = (root: unknown, keys: string[]): unknown => keys.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);

describe('the settings table and the files that restate it', () => {
  it.each(Object.keys(TABLES) as Array<keyof typeof TABLES>)('README.md %s table is the rendered one (npm run docs:settings)', (table) => {
    expect(readmeTable(read(README), table)).toBe(renderTable(table));
  });

  describe('Helm chart', () => {
    const mapped = chartSettings();
    const values = (parse(read(path.join(CHART, 'values.yaml'))) as { config: { antom: { baseUrl: string } } }).config;
    const schema = (JSON.parse(read(path.join(CHART, 'values.schema.json'))) as { properties: { config: SchemaNode } }).properties.config;
    const schemaAt = (keys: string[]) => keys.reduce<SchemaNode | undefined>((node, key) => node?.properties?.[key], schema);

    it('renders the worker settings from values (the template was parsed)', () => {
      expect(mapped.get('MAX_IN_FLIGHT')).toEqual(['maxInFlight']);
      expect(mapped.get('RETRY_BASE_DELAY_MS')).toEqual(['retry', 'baseDelayMs']);
      expect(mapped.get('KAFKA_SESSION_TIMEOUT_MS')).toEqual(['kafka', 'consumer', 'sessionTimeoutMs']);
      expect(mapped.get('BREAKER_FAULT_RATIO')).toEqual(['breaker', 'faultRatio']);
      expect(mapped.size).toBeGreaterThan(25);
    });

    it('names only real settings', () => {
      expect([...mapped.keys()].filter((name) => !isSetting(name))).toEqual([]);
    });

    it("defaults to the worker's defaults (or null: the worker's default applies)", () => {
      const differing = [...mapped]
        .filter(([name]) => isSetting(name) && settingSpec(name).fallback !== undefined)
        .map(([name, keys]) => [name, at(values, keys)] as const)
        .filter(([name, value]) => value !== null && String(value as string | number | boolean) !== settingSpec(name as SettingName).fallback);
      expect(differing).toEqual([]);
    });

    it('leaves derived defaults to the worker (null)', () => {
      const set = [...mapped].filter(([name, keys]) => isSetting(name) && derivedFrom(name) && at(values, keys) !== null);
      expect(set).toEqual([]);
    });

    it('accepts no value the worker rejects (schema bounds within the setting bounds)', () => {
      const looser: string[] = [];
      for (const [name, keys] of mapped) {
        if (!isSetting(name)) continue;
        const spec = settingSpec(name);
        const node = schemaAt(keys);
        if (spec.min !== undefined && !(node?.minimum !== undefined && node.minimum >= spec.min)) looser.push(`${name}: minimum ${node?.minimum ?? 'none'} below ${spec.min}`);
        if (spec.max !== undefined && !(node?.maximum !== undefined && node.maximum <= spec.max)) looser.push(`${name}: maximum ${node?.maximum ?? 'none'} above ${spec.max}`);
      }
      expect(looser).toEqual([]);
    });

    it("uses the README's example vendor URL", () => {
      expect(SETTINGS.ANTOM_BASE_URL.doc).toContain(values.antom.baseUrl);
    });
  });

  describe('docker-compose.yml', () => {
    const compose = parse(read(path.join(ROOT, 'docker-compose.yml')), { merge: true }) as Record<string, unknown>;
    const env = compose['x-worker-env'] as Record<string, string>;
    // The demo runs one broker in front of the sandbox: nothing else may differ from the worker's defaults.
    const DEMO_OVERRIDES = ['TOPIC_REPLICATION_FACTOR', 'TOPIC_MIN_INSYNC_REPLICAS', 'ANTOM_SANDBOX'];

    it('sets only real settings', () => {
      expect(unknownVariables(env)).toEqual([]);
      expect(Object.keys(env).filter((name) => !isSetting(name))).toEqual([]);
    });

    it("states the worker's defaults where it sets them", () => {
      const differing = Object.entries(env).filter(
        ([name, value]) => isSetting(name) && !DEMO_OVERRIDES.includes(name) && settingSpec(name).fallback !== undefined && value !== settingSpec(name).fallback,
      );
      expect(differing).toEqual([]);
    });

    it('sets a derived setting only to what it derives from', () => {
      const differing = Object.entries(env).filter(([name, value]) => {
        const source = isSetting(name) ? derivedFrom(name) : undefined;
        return source !== undefined && value !== (env[source] ?? settingSpec(source).fallback);
      });
      expect(differing).toEqual([]);
    });
  });
});
