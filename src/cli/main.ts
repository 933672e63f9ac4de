#!/usr/bin/env node
// First: replaces KafkaJS's read_committed filter before anything loads kafkajs.
import '../app/install-aborted-filter';
import { ConfigError, loadConfig } from '../config/config';
import { runInit } from './init';
import { runProduce } from './produce';
import { runTail } from './tail';
import { startWorkerApp } from '../app/worker-app';

const USAGE = `usage: capture-worker [command]
  run        consume CaptureRequested and execute captures (default)
  init       create missing topics and register the event schemas (BACKWARD-checked)
  produce    JSON lines on stdin → CaptureRequested events
  tail       outcome events → JSON lines on stdout (--key ID to filter, --follow to keep reading)
Configuration is read from the environment; see README.md.`;

const FATAL_STOP_MS = 5_000;

async function run(): Promise<void> {
  const config = loadConfig();
  let started: Awaited<ReturnType<typeof startWorkerApp>> | undefined;
  // A fatal error (already logged) ends the process, also while the first group join is running.
  const onFatal = () => {
    const exit = () => process.exit(1);
    // Stopping needs the broker; when it is what failed, exit anyway: nothing uncommitted is lost.
    setTimeout(exit, FATAL_STOP_MS).unref();
    if (started) void started.stop().finally(() => started!.logger.flush(exit));
    else setTimeout(exit, 100);
  };
  const app = await startWorkerApp(config, onFatal);
  started = app;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutdown requested');
    // Logs are flushed before exiting so the last outcome lines are not lost.
    const exit = (code: number) => app.logger.flush(() => process.exit(code));
    app.stop().then(
      () => exit(0),
      (error: Error) => {
        app.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [command = 'run', ...rest] = argv;
  switch (command) {
    case 'run':
      return run();
    case 'init':
      return runInit();
    case 'produce':
      return runProduce(rest);
    case 'tail':
      return runTail(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(error instanceof ConfigError ? error.message : `capture-worker: ${error.message}`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
