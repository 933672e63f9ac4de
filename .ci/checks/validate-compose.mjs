// Checks on docker-compose.yml that the Compose schema cannot express, run on the project as
// compose-go resolved it (compose-config's JSON: anchors merged, variables interpolated, paths
// absolute). What `docker compose up` would trip over at run time, found without an engine:
//   - every depends_on condition can be met: service_healthy needs a healthcheck on the target,
//     service_completed_successfully needs a one-shot (restart "no");
//   - what the app services run exists: an entrypoint/command naming /app/dist/... or a bin
//     must be one of package.json's bins, whose TypeScript source must exist; a build context
//     must hold the Dockerfile and the target stage;
//   - the worker's settings: everything config.ts requires is set, the key files lie on a
//     mounted volume, the brokers/registry/API hosts are services of this file (ports included),
//     HTTP_PORT is the published and health-checked port, stop_grace_period > SHUTDOWN_GRACE_MS;
//   - host ports are not published twice.
//
// Usage: node validate-compose.mjs project.json repo-root
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [projectFile, repoRoot] = process.argv.slice(2);
const project = JSON.parse(readFileSync(projectFile, 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const services = project.services ?? {};
const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// The worker's required settings (src/config/config.ts: no default there).
const REQUIRED_WORKER_ENV = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'ANTOM_BASE_URL', 'ANTOM_CLIENT_ID'];
const bins = Object.fromEntries(Object.entries(pkg.bin ?? {}).map(([name, file]) => [name, path.posix.normalize(file)]));

const durationMs = (d) => {
  if (d == null) return 10_000; // Docker's default stop timeout
  if (typeof d === 'number') return d / 1e6; // compose-go marshals durations as nanoseconds
  let ms = 0;
  for (const [, n, unit] of String(d).matchAll(/([\d.]+)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[unit];
  return ms;
};
const hasHealthcheck = (svc) => svc.healthcheck && !svc.healthcheck.disable && (svc.healthcheck.test ?? []).length > 0 && svc.healthcheck.test[0] !== 'NONE';

// depends_on conditions
for (const [name, svc] of Object.entries(services)) {
  for (const [dep, spec] of Object.entries(svc.depends_on ?? {})) {
    const target = services[dep];
    if (!target) continue; // compose-go's consistency check already reports this
    if (spec.condition === 'service_healthy' && !hasHealthcheck(target)) {
      problem(name, `waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    }
    if (spec.condition === 'service_completed_successfully' && !['no', undefined].includes(target.restart)) {
      problem(name, `waits for ${dep} to complete, but ${dep} restarts (${target.restart}): not a one-shot`);
    }
  }
}

// What app containers run
const distToSource = (dist) => path.join(repoRoot, dist.replace(/^dist-sandbox\//, '').replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
// Which Dockerfile stage puts each bin on PATH: a service running a bin must build that stage.
const dockerfileText = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const binStage = {};
let stage;
for (const line of dockerfileText.replace(/\\\n/g, ' ').split('\n')) {
  stage = line.match(/^FROM\s+\S+\s+AS\s+(\S+)/i)?.[1] ?? stage;
  for (const [, name] of line.matchAll(/ln -s \/app\/\S+ \/usr\/local\/bin\/(\S+)/g)) binStage[name] = stage;
}
for (const [name, svc] of Object.entries(services)) {
  if (svc.build) {
    const ctx = svc.build.context;
    const dockerfile = path.resolve(ctx, svc.build.dockerfile ?? 'Dockerfile');
    if (!existsSync(dockerfile)) problem(name, `build: no ${dockerfile}`);
    else if (svc.build.target && !new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${svc.build.target}\\s*$`, 'mi').test(readFileSync(dockerfile, 'utf8'))) {
      problem(name, `build target "${svc.build.target}" is not a stage of ${path.relative(repoRoot, dockerfile)}`);
    }
  }
  const words = [...(svc.entrypoint ?? []), ...(svc.command ?? [])].flatMap((w) => String(w).split(/\s+/));
  for (const w of words) {
    const m = w.match(/^\/app\/(dist(?:-sandbox)?\/\S+\.js)$/);
    if (m) {
      if (!Object.values(bins).includes(m[1])) problem(name, `runs ${w}, which is not a package.json bin (${Object.values(bins).join(', ')})`);
      if (!existsSync(distToSource(m[1]))) problem(name, `runs ${w}, but ${path.relative(repoRoot, distToSource(m[1]))} does not exist`);
    }
  }
  for (const binName of Object.keys(bins)) {
    if (!words.includes(binName)) continue;
    if (!existsSync(distToSource(bins[binName]))) problem(name, `runs ${binName}, but ${path.relative(repoRoot, distToSource(bins[binName]))} does not exist`);
    if (svc.build && svc.build.target !== binStage[binName]) problem(name, `runs ${binName}, which only the Dockerfile's "${binStage[binName]}" stage has (this service builds "${svc.build.target}")`);
  }
}

// The worker
const worker = services.worker;
if (!worker) {
  problem('worker', 'no service named worker');
} else {
  const env = worker.environment ?? {};
  for (const v of REQUIRED_WORKER_ENV) if (!env[v]) problem('worker', `environment ${v} is required by the worker`);
  const mounts = (worker.volumes ?? []).map((v) => v.target.replace(/\/$/, '') + '/');
  for (const [file, inline] of [['ANTOM_PRIVATE_KEY_FILE', 'ANTOM_PRIVATE_KEY'], ['ANTOM_PUBLIC_KEY_FILE', 'ANTOM_PUBLIC_KEY']]) {
    if (env[file]) {
      if (!mounts.some((m) => env[file].startsWith(m))) problem('worker', `${file}=${env[file]} is not on a mounted volume`);
    } else if (!env[inline]) problem('worker', `${file} (or ${inline}) is required by the worker`);
  }
  const servicePorts = (svcName) => {
    const s = services[svcName];
    if (!s) return null;
    const ports = new Set((s.ports ?? []).map((p) => String(p.target)));
    // A port the service is told to listen on: *_PORT variables, Kafka's *_LISTENERS.
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (/PORT$/.test(k)) ports.add(String(v));
      if (/LISTENERS$/.test(k) && !/ADVERTISED/.test(k)) for (const m of String(v).matchAll(/:(\d+)/g)) ports.add(m[1]);
    }
    return ports;
  };
  const checkHostPort = (variable, hostPort) => {
    const [host, port] = hostPort.split(':');
    const ports = servicePorts(host);
    if (!ports) problem('worker', `${variable}: host ${host} is not a service of this file`);
    else if (port && ports.size && !ports.has(port)) problem('worker', `${variable}: ${host} does not listen on ${port} (known: ${[...ports].join(', ')})`);
  };
  for (const b of String(env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)) checkHostPort('KAFKA_BROKERS', b.trim());
  for (const v of ['SCHEMA_REGISTRY_URL', 'ANTOM_BASE_URL']) {
    if (!env[v]) continue;
    const u = new URL(env[v]);
    checkHostPort(v, `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`);
  }
  const httpPort = String(env.HTTP_PORT ?? 9464);
  if (!(worker.ports ?? []).some((p) => String(p.target) === httpPort)) problem('worker', `HTTP_PORT ${httpPort} is not published`);
  const test = (worker.healthcheck?.test ?? []).join(' ');
  if (!test.includes(`:${httpPort}/readyz`)) problem('worker', `healthcheck should GET /readyz on HTTP_PORT ${httpPort}`);
  const graceMs = Number(env.SHUTDOWN_GRACE_MS ?? 30_000);
  const stopMs = durationMs(worker.stop_grace_period);
  if (!(stopMs > graceMs)) problem('worker', `stop_grace_period (${stopMs} ms) must exceed SHUTDOWN_GRACE_MS (${graceMs} ms)`);
}

// Host ports
const published = new Map();
for (const [name, svc] of Object.entries(services)) {
  for (const p of svc.ports ?? []) {
    if (!p.published) continue;
    const key = `${p.host_ip ?? ''}:${p.published}/${p.protocol ?? 'tcp'}`;
    if (published.has(key)) problem(name, `host port ${p.published} already published by ${published.get(key)}`);
    published.set(key, name);
  }
}

if (problems.length) {
  for (const p of problems) console.log(`  ERROR ${p}`);
  console.log(`  ${problems.length} problem(s)`);
  process.exit(1);
}
const order = Object.entries(services).map(([n, s]) => {
  const deps = Object.entries(s.depends_on ?? {}).map(([d, c]) => `${d}:${c.condition.replace('service_', '')}`);
  return deps.length ? `${n} <- ${deps.join(' ')}` : n;
});
console.log(`  run-time consistency OK: ${order.join('; ')}`);
