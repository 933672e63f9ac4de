import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, ROOT, startCli } from './cli-process';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
// No Kafka or registry settings at all: a command that tried to connect would fail.
const BARE: NodeJS.ProcessEnv = { KAFKA_BROKERS: '', SCHEMA_REGISTRY_URL: '' };

describe('capture-worker usage, version and configuration errors', () => {
  it('prints the version from the compiled CLI, package.json found relative to it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cw-dist-'));
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], { cwd: ROOT });
      copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
      for (const flag of ['--version', '-V']) {
        const run = spawnSync(process.execPath, [path.join(dir, 'dist', 'cli', 'main.js'), flag], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, encoding: 'utf8' });
        expect({ code: run.status, stdout: run.stdout.trim() }).toEqual({ code: 0, stdout: VERSION });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it.each(['run', 'init', 'produce', 'tail', 'dlq', 'dlq list', 'dlq replay', 'unknowns'])('%s --help prints its usage and exits 0 without Kafka or stdin', async (command) => {
    // stdin is left open: produce must not wait on it.
    const { done } = startCli([...command.split(' '), '--help'], BARE, null);
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: capture-worker ${command === 'run' ? '\\[run\\]' : command}`));
  });

  it.each([
    [['bogus'], 'unknown command "bogus"', 'try: capture-worker --help'],
    [['tail', '--nope'], "Unknown option '--nope'", 'try: capture-worker tail --help'],
    [['dlq', 'purge'], 'unknown command "dlq purge"', 'try: capture-worker dlq --help'],
    [['dlq', 'replay'], '--reason is required', 'try: capture-worker dlq replay --help'],
  ])('%j is a usage error: one line, a hint, exit 2', async (args, message, hint) => {
    const result = await cli(args, BARE);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(message), hint]);
  });

  it('init without its environment lists the problems by variable and exits 78', async () => {
    const result = await cli(['init'], { ...BARE, TOPIC_PARTITIONS: 'many' });
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      'invalid configuration (3 problems):',
      '  - KAFKA_BROKERS: required',
      '  - SCHEMA_REGISTRY_URL: required',
      expect.stringMatching(/^ {2}- TOPIC_PARTITIONS: /),
    ]);
  });
});
