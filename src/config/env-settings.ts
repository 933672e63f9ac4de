import { readFileSync } from 'node:fs';

/** Every problem of a configuration at once, by variable name; values are never echoed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ReadOptions {
  /**
   * false: check the settings' shape only, without opening *_FILE paths (the deployment checks,
   * where the secret mounts do not exist). Default true.
   */
  readFiles?: boolean;
  now?: Date;
}

/** Reads NAME or NAME_FILE and collects problems instead of throwing, so all are reported at once. */
export class EnvSettings {
  readonly problems: string[] = [];
  private readonly readFiles: boolean;
  readonly now: Date;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    options: ReadOptions = {},
  ) {
    this.readFiles = options.readFiles ?? true;
    this.now = options.now ?? new Date();
  }

  /** Whether contents can be checked (false in shape-only mode for file-sourced values). */
  get checksContents(): boolean {
    return this.readFiles;
  }

  has(name: string): boolean {
    return Boolean(this.env[name] || this.env[`${name}_FILE`]);
  }

  /** Which variable holds NAME (for messages): NAME_FILE when the value comes from a file. */
  source(name: string): string {
    return this.env[`${name}_FILE`] ? `${name}_FILE` : name;
  }

  /** The value of NAME or the contents of NAME_FILE; undefined when neither is set. */
  value(name: string, { trim = true } = {}): string | undefined {
    const inline = this.env[name];
    const file = this.env[`${name}_FILE`];
    if (inline && file) {
      this.problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      return undefined;
    }
    if (inline) return trim ? inline.trim() : inline;
    if (!file) return undefined;
    if (!this.readFiles) return '';
    try {
      const text = readFileSync(file, 'utf8');
      // A secret file usually ends with a newline that is not part of the secret.
      const value = trim ? text.trim() : text;
      if (!value) this.problems.push(`${name}_FILE: ${file} is empty`);
      return value;
    } catch (error) {
      this.problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return undefined;
    }
  }

  /** A path that must be readable now (re-read later, e.g. a rotating token file). */
  path(name: string): string | undefined {
    const file = this.env[name];
    if (!file || !this.readFiles) return file || undefined;
    try {
      readFileSync(file);
    } catch (error) {
      this.problems.push(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return file;
  }

  raw(name: string): string | undefined {
    return this.env[name] || undefined;
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.env[name]?.trim().toLowerCase();
    if (!text) return fallback;
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    this.problems.push(`${name}: expected true or false`);
    return fallback;
  }

  problem(message: string): void {
    this.problems.push(message);
  }
}
