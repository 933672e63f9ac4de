import { loadConfig } from '../config/config';
import { startWorkerApp } from '../app/worker-app';
import { parseCommand } from './usage';

export const runCommand = {
  name: 'run',
  usage: `usage: capture-worker [run]
  Consumes CaptureRequested events and executes the captures, configured from the environment
  (README.md, Configuration). SIGTERM/SIGINT: stop fetching, finish in-flight calls within
  SHUTDOWN_GRACE_MS, commit, exit 0. Exits 78 on a configuration error.`,
  options: {},
} as const;

const FATAL_STOP_MS = 5_000;

/** `capture-worker run`: the worker, until a signal or a fatal error ends the process. */
export async function runWorker(args: string[]): Promise<void> {
  if (!parseCommand(runCommand, args)) return;
  const config = loadConfig();
  // Assigned once the app exists; onFatal, created before, reads it.
  // eslint-disable-next-line prefer-const
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
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
