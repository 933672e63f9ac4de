// The container image's contents and behaviour, checked without a Docker engine.
//
//   node image-check.mjs static REPO            Dockerfile <-> .dockerignore <-> package.json
//   node image-check.mjs run REPO LAYOUT SANDBOX
//                                               run the runtime stage's files and the sandbox
//                                               stage's (assembled in LAYOUT and SANDBOX by
//                                               dockerfile.sh as the Dockerfile does)
//
// `run` starts everything from outside LAYOUT (the cwd is not /app), with NODE_ENV=production
// and only production dependencies: a module missing at run time, a path relative to the
// source tree, or a broken bin fails here. When KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set
// (e.g. the native stack is up) it also runs `init` and the worker against them, on topics of
// its own, and stops the worker with SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [mode, repoArg, layoutArg, sandboxArg] = process.argv.slice(2);
const repo = path.resolve(repoArg ?? '.');
const layout = layoutArg && path.resolve(layoutArg);
const sandboxLayout = sandboxArg && path.resolve(sandboxArg);
const SANDBOX_CLI = 'dist-sandbox/tools/sandbox/cli.js';
const problems = [];
const problem = (msg) => problems.push(msg);
const say = (msg) => console.log(`  ${msg}`);

function finish(okMessage) {
  if (problems.length) {
    for (const p of problems) console.log(`  ERROR ${p}`);
    process.exit(1);
  }
  say(okMessage);
}

// ---- static ---------------------------------------------------------------------------------

/** .dockerignore semantics: patterns in order, the last match wins, a match on a parent excludes its contents. */
function dockerignore(text) {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\//, '')).replace(/\/$/, '');
      const re = pattern
        .split('/')
        .map((seg) => (seg === '**' ? '(?:.*)' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (file) => {
    const parts = file.split('/');
    let excluded = false;
    for (const { negate, re } of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (re.test(parts.slice(0, i).join('/'))) {
          excluded = !negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function staticChecks() {
  const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const excluded = dockerignore(readFileSync(path.join(repo, '.dockerignore'), 'utf8'));
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  const stages = [];
  for (const l of lines) {
    const from = l.match(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i);
    if (from) stages.push({ image: from[1], name: from[2], lines: [] });
    else if (stages.length && l && !l.startsWith('#')) stages.at(-1).lines.push(l);
  }
  const final = stages.at(-1);

  // Every file COPY'd from the build context exists and is not excluded by .dockerignore.
  for (const st of stages) {
    for (const l of st.lines) {
      const m = l.match(/^COPY\s+(.*)$/i);
      if (!m || /--from=/.test(m[1])) continue;
      const args = m[1].split(/\s+/).filter((a) => !a.startsWith('--'));
      for (const src of args.slice(0, -1)) {
        const rel = src.replace(/^\.\//, '').replace(/\/$/, '');
        if (!existsSync(path.join(repo, rel))) problem(`COPY ${src}: not in the repository`);
        else if (excluded(rel)) problem(`COPY ${src}: excluded by .dockerignore`);
        else if (statSync(path.join(repo, rel)).isDirectory() && excluded(`${rel}/x.ts`)) problem(`COPY ${src}: its files are excluded by .dockerignore`);
      }
    }
  }
  // What must never reach the build context.
  for (const p of ['node_modules/kafkajs/index.js', 'dist/cli/main.js', '.stack/data/x', '.git/HEAD', 'coverage/lcov.info',
    'bench/results/run.json', 'test/unit/x.test.ts', 'src/keys/merchant-private.pem', '.env', 'helm/capture-worker/values.yaml']) {
    if (!excluded(p)) problem(`.dockerignore lets ${p} into the build context`);
  }

  // The runtime stage.
  const has = (re) => final.lines.some((l) => re.test(l));
  // A stage built FROM another stage has that stage's base image.
  let baseImage = final.image;
  while (stages.some((s) => s.name === baseImage)) baseImage = stages.find((s) => s.name === baseImage).image;
  if (!/^node:(22|24)[.\w-]*$/.test(baseImage.replace('${NODE_IMAGE}', (dockerfile.match(/ARG NODE_IMAGE=(\S+)/) ?? [])[1] ?? ''))) {
    problem(`runtime base image must be Node 22 or 24 (${baseImage})`);
  }
  const copiesProdDeps = has(/^COPY --from=prod-deps .*node_modules/) && stages.find((s) => s.name === 'prod-deps')?.lines.some((l) => /npm ci\b.*--omit=dev/.test(l));
  if (!copiesProdDeps && !has(/npm ci\b.*--omit=dev/)) problem('runtime node_modules must come from `npm ci --omit=dev`');
  const users = final.lines.filter((l) => /^USER\s/i.test(l));
  const user = users.at(-1)?.split(/\s+/)[1] ?? '';
  if (!/^[1-9]\d*(:\d+)?$/.test(user)) problem(`the final USER must be a numeric non-root uid (Kubernetes runAsNonRoot), got "${user || 'none'}"`);
  const entry = final.lines.find((l) => /^ENTRYPOINT\s/i.test(l));
  let argv = [];
  try {
    argv = JSON.parse(entry.replace(/^ENTRYPOINT\s+/i, ''));
  } catch {
    problem('ENTRYPOINT must use the exec (JSON) form so that signals reach the process');
  }
  if (argv.length && !/\/(tini|dumb-init)$/.test(argv[0])) problem(`ENTRYPOINT should start with an init (tini) that forwards SIGTERM: ${entry}`);
  const bins = Object.fromEntries(Object.entries(pkg.bin ?? {}).map(([k, v]) => [k, path.posix.normalize(v)]));
  const scripts = argv.filter((a) => a.startsWith('/app/'));
  for (const s of scripts) if (!Object.values(bins).includes(s.slice(5))) problem(`ENTRYPOINT runs ${s}, not a package.json bin`);
  for (const [name, file] of Object.entries(bins)) {
    if (!new RegExp(`ln -s /app/${file} /usr/local/bin/${name}\\b`).test(dockerfile)) problem(`bin ${name} (${file}) is not linked onto PATH`);
  }
  // The worker image ships the worker and its CLIs only; the sandbox has a target of its own.
  for (const l of final.lines.filter((l) => /^COPY\s/i.test(l))) {
    if (/tools|dist-sandbox/.test(l)) problem(`the runtime stage copies developer tools: ${l}`);
  }
  const sandboxStage = stages.find((s) => s.name === 'sandbox');
  if (!sandboxStage?.lines.some((l) => /^ENTRYPOINT .*dist-sandbox\/tools\/sandbox\/cli\.js/.test(l))) problem('a `sandbox` stage must run tools/sandbox/cli.js');
  if (final.name !== 'runtime') problem(`the last stage (the default target) must be the worker's runtime, not ${final.name}`);
  const expose = final.lines.find((l) => /^EXPOSE\s/i.test(l));
  const settings = readFileSync(path.join(repo, 'src/config/settings.ts'), 'utf8');
  const defaultPort = (settings.match(/HTTP_PORT:\s*int\(\s*\d+\s*,\s*([\d_]+)\s*,/) ?? [])[1]?.replaceAll('_', '');
  if (!defaultPort) problem('cannot find the HTTP_PORT default in src/config/settings.ts');
  if (!expose?.includes(defaultPort)) problem(`EXPOSE (${expose}) should be the worker's default HTTP_PORT ${defaultPort}`);
  finish(`Dockerfile/.dockerignore/package.json consistent: stages ${stages.map((s) => s.name).join(' -> ')}, USER ${user}, ENTRYPOINT ${argv.join(' ')}`);
}

// ---- run ------------------------------------------------------------------------------------

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function start(bin, args, env, cwd) {
  // Each image's files stand alone: the sandbox's directory has no node_modules at all.
  const child = spawn(process.execPath, [path.join(bin === SANDBOX_CLI ? sandboxLayout : layout, bin), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function runToEnd(bin, args, env, cwd, timeoutMs = 30_000) {
  const p = start(bin, args, env, cwd);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

async function waitHttp(url, timeoutMs, okStatus = (s) => s === 200) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      last = `HTTP ${r.status}`;
      if (okStatus(r.status)) return true;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  problem(`${url} did not answer as expected within ${timeoutMs} ms (${last})`);
  return false;
}

async function stopWithSigterm(p, what, withinMs) {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), withinMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  if (code !== 0) problem(`${what}: SIGTERM should end it cleanly within ${withinMs} ms (exit ${code}, signal ${signal})\n${p.output().slice(-2000)}`);
  return code === 0;
}

async function runChecks() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'image-check-'));
  const keys = path.join(cwd, 'keys');
  const done = [];
  try {
    // Only the worker's code and production dependencies are in the runtime files.
    for (const tool of ['sandbox', 'stack', 'demo', 'tools']) if (existsSync(path.join(layout, 'dist', tool))) problem(`the runtime files contain dist/${tool}`);
    for (const dev of ['cli-progress', 'tsx', 'typescript', 'jest']) if (existsSync(path.join(layout, 'node_modules', dev))) problem(`the runtime files contain the development package ${dev}`);
    // The CLI loads (every production import resolves) and prints its usage.
    let r = await runToEnd('dist/cli/main.js', ['help'], {}, cwd);
    if (r.code !== 0 || !/usage: capture-worker/.test(r.output)) {
      problem(`capture-worker help: exit ${r.code}\n${r.output}`);
      return finish('');
    }
    done.push('capture-worker help');

    // Configuration errors: exit 78 with every missing setting named.
    r = await runToEnd('dist/cli/main.js', ['run'], {}, cwd);
    const missing = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'ANTOM_BASE_URL', 'ANTOM_CLIENT_ID'].filter((v) => !r.output.includes(v));
    if (r.code !== 78 || missing.length) problem(`capture-worker run without settings: want exit 78 naming every missing variable, got ${r.code} (missing ${missing})\n${r.output}`);
    else done.push('run without settings -> exit 78');

    // Demo keys, as docker-compose's `keys` service makes them.
    r = await runToEnd(SANDBOX_CLI, ['keygen', `${keys}/merchant-private.pem`, `${keys}/merchant-public.pem`], {}, cwd);
    if (r.code !== 0 || !existsSync(`${keys}/merchant-private.pem`)) problem(`capture-sandbox keygen: exit ${r.code}\n${r.output}`);
    else done.push('capture-sandbox keygen');

    // The sandbox, configured as docker-compose's `sandbox` service.
    const sandboxPort = await freePort();
    const sandbox = start(SANDBOX_CLI, [], {
      SANDBOX_HOST: '127.0.0.1',
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_CLIENT_ID: 'IMAGE_CHECK_CLIENT',
      SANDBOX_MERCHANT_PUBLIC_KEY_FILE: `${keys}/merchant-public.pem`,
      SANDBOX_PRIVATE_KEY_FILE: `${keys}/sandbox-private.pem`,
      SANDBOX_PUBLIC_KEY_FILE: `${keys}/sandbox-public.pem`,
    }, cwd);
    if (await waitHttp(`http://127.0.0.1:${sandboxPort}/sandbox/stats`, 15_000)) {
      if (!existsSync(`${keys}/sandbox-public.pem`)) problem('the sandbox did not write its public key');
      done.push('sandbox serves /sandbox/stats');
    }

    if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) {
      const tag = `imagecheck${Date.now()}`;
      const env = {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL,
        ANTOM_BASE_URL: `http://127.0.0.1:${sandboxPort}`,
        ANTOM_CLIENT_ID: 'IMAGE_CHECK_CLIENT',
        ANTOM_PRIVATE_KEY_FILE: `${keys}/merchant-private.pem`,
        ANTOM_PUBLIC_KEY_FILE: `${keys}/sandbox-public.pem`,
        GROUP_ID: `${tag}-group`,
        TOPIC_PARTITIONS: '2',
        TOPIC_REPLICATION_FACTOR: '1',
        TOPIC_MIN_INSYNC_REPLICAS: '1',
        HTTP_PORT: String(await freePort()),
        SHUTDOWN_GRACE_MS: '5000',
        ...Object.fromEntries(['requested', 'succeeded', 'failed', 'unknown', 'retry', 'dlq'].map((t) => [`TOPIC_${t.toUpperCase()}`, `${tag}.${t}`])),
      };
      r = await runToEnd('dist/cli/main.js', ['init'], env, cwd, 60_000);
      if (r.code !== 0) problem(`capture-worker init: exit ${r.code}\n${r.output}`);
      else done.push(`init (topics ${tag}.*)`);
      const worker = start('dist/cli/main.js', ['run'], env, cwd);
      const base = `http://127.0.0.1:${env.HTTP_PORT}`;
      if ((await waitHttp(`${base}/healthz`, 30_000)) && (await waitHttp(`${base}/readyz`, 60_000))) {
        const metrics = await (await fetch(`${base}/metrics`)).text();
        if (!/^# HELP /m.test(metrics)) problem('/metrics serves no Prometheus text');
        done.push('worker ready (/healthz, /readyz, /metrics)');
      }
      if (await stopWithSigterm(worker, 'worker', 20_000)) done.push('worker stops on SIGTERM (exit 0)');
    } else {
      say('note: KAFKA_BROKERS/SCHEMA_REGISTRY_URL not set: init and the worker against Kafka skipped');
    }

    if (await stopWithSigterm(sandbox, 'sandbox', 5_000)) done.push('sandbox stops on SIGTERM');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  finish(`runtime stage files work (NODE_ENV=production, prod deps only, cwd outside /app): ${done.join('; ')}`);
}

if (mode === 'static') staticChecks();
else if (mode === 'run') await runChecks();
else {
  console.error('usage: image-check.mjs static REPO | run REPO LAYOUT SANDBOX');
  process.exit(2);
}
