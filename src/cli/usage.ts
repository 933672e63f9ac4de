import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the CLI cannot run: main prints one line and a hint, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }

  get hint(): string {
    return `try: capture-worker ${this.command ? `${this.command} ` : ''}--help`;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command<O extends Options> {
  name: string;
  /** Printed by --help, and nothing else is done. */
  usage: string;
  options: O;
}

/**
 * The command's flags, or undefined after printing its usage for --help/-h (before anything
 * connects or reads stdin). Unknown flags and stray arguments are UsageErrors.
 */
export function parseCommand<O extends Options>(command: Command<O>, args: string[]): ParsedValues<O> | undefined {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0], command.name);
  }
  if (values.help) {
    console.log(command.usage);
    return undefined;
  }
  return values as ParsedValues<O>;
}

type ParsedValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/** `--since`: an ISO-8601 time or epoch milliseconds. */
export function parseSince(text: string, command: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--since: "${text}" is neither an ISO-8601 time nor epoch milliseconds`, command);
  return ms;
}
