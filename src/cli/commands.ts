import { dlqListCommand, runDlqList } from './dlq-list';
import { dlqReplayCommand, runDlqReplay } from './dlq-replay';
import { initCommand, runInit } from './init';
import { produceCommand, runProduce } from './produce';
import { runCommand, runWorker } from './run';
import { runTail, tailCommand } from './tail';
import { runUnknowns, unknownsCommand } from './unknowns';
import { UsageError } from './usage';
import { packageVersion } from '../app/version';

interface Entry {
  summary: string;
  usage: string;
  run: (args: string[]) => Promise<unknown>;
}

/** The table's command of that name; undefined for any other word, Object.prototype's names (toString, ...) included. */
function commandIn(table: Record<string, Entry>, name: string): Entry | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const DLQ: Record<string, Entry> = {
  list: { summary: 'counts by dlq-reason and sample records', usage: dlqListCommand.usage, run: runDlqList },
  replay: {
    summary: 're-publish records of one reason, once each',
    usage: dlqReplayCommand.usage,
    // A refused record (a reference) is reported and passed over; the exit code tells scripts.
    run: async (args) => {
      if ((await runDlqReplay(args))?.refused) process.exitCode = 1;
    },
  },
};

const dlqUsage = `usage: capture-worker dlq <command> [--help]\n${Object.entries(DLQ)
  .map(([name, e]) => `  ${name.padEnd(8)} ${e.summary}`)
  .join('\n')}`;

const COMMANDS: Record<string, Entry> = {
  run: { summary: 'consume CaptureRequested and execute captures (default)', usage: runCommand.usage, run: runWorker },
  init: { summary: 'create missing topics and register the event schemas', usage: initCommand.usage, run: runInit },
  produce: { summary: 'JSON lines on stdin → CaptureRequested events', usage: produceCommand.usage, run: runProduce },
  tail: { summary: 'committed outcome (or DLQ) records, to the end offsets or --follow', usage: tailCommand.usage, run: runTail },
  dlq: { summary: 'inspect (list) or replay the dead-letter topic', usage: dlqUsage, run: (args) => sub('dlq', DLQ, dlqUsage, args) },
  unknowns: { summary: 'CaptureUnknown events; --final: captures to reconcile', usage: unknownsCommand.usage, run: runUnknowns },
};

export const USAGE = `usage: capture-worker [command] [--help]
${Object.entries(COMMANDS)
  .map(([name, e]) => `  ${name.padEnd(9)} ${e.summary}`)
  .join('\n')}
  --version, -V  print the version
Configuration is read from the environment; see README.md. \`capture-worker <command> --help\` for each.`;

function sub(parent: string, table: Record<string, Entry>, usage: string, [name, ...rest]: [name?: string, ...rest: string[]]): Promise<unknown> {
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage);
    return Promise.resolve();
  }
  const entry = commandIn(table, name);
  if (!entry) throw new UsageError(`unknown command "${parent} ${name}"`, parent);
  return entry.run(rest);
}

/** Runs one command line (without node and the script). Usage errors throw UsageError. */
export async function runCli(argv: string[]): Promise<void> {
  const [first = 'run', ...rest] = argv;
  if (first === '--version' || first === '-V') {
    console.log(packageVersion());
    return;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(USAGE);
    return;
  }
  // `capture-worker --flag` is `capture-worker run --flag`, which reports the flag.
  if (first.startsWith('-')) {
    await runWorker(argv);
    return;
  }
  const entry = commandIn(COMMANDS, first);
  if (!entry) throw new UsageError(`unknown command "${first}"`);
  await entry.run(rest);
}
