import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommand, parseSince, UsageError } from '../../../src/cli/usage';
import { packageVersion } from '../../../src/app/version';
import { tailRoles } from '../../../src/cli/tail';

const command = { name: 'tail', usage: 'usage: tail', options: { key: { type: 'string' }, follow: { type: 'boolean' } } } as const;

describe('parseCommand', () => {
  let log: jest.SpyInstance;
  beforeEach(() => (log = jest.spyOn(console, 'log').mockImplementation(() => undefined)));
  afterEach(() => log.mockRestore());

  it('returns the flags', () => {
    expect(parseCommand(command, ['--key', 'k', '--follow'])).toEqual({ key: 'k', follow: true });
  });

  it.each([['--help'], ['-h']])('prints the usage for %s and returns nothing to run', (flag) => {
    expect(parseCommand(command, ['--key', 'k', flag])).toBeUndefined();
    expect(log).toHaveBeenCalledWith('usage: tail');
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['stray'], /positional/],
    [['--key'], /--key/],
  ])('%j is a usage error of the command, on one line', (args, message) => {
    const error = (() => {
      try {
        parseCommand(command, args);
      } catch (e) {
        return e as UsageError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBe('try: capture-worker tail --help');
  });
});

describe('parseSince', () => {
  it('takes ISO-8601 and epoch milliseconds', () => {
    expect(parseSince('2024-05-01T10:00:00Z', 'tail')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseSince('1714557600000', 'tail')).toBe(1_714_557_600_000);
  });

  it('rejects anything else as a usage error', () => {
    expect(() => parseSince('yesterday', 'tail')).toThrow(UsageError);
  });
});

describe('tail --topic', () => {
  it('defaults to the outcome topics and takes the DLQ on request', () => {
    expect(tailRoles(undefined)).toEqual(['succeeded', 'failed', 'unknown']);
    expect(tailRoles(['dlq', 'failed', 'dlq'])).toEqual(['dlq', 'failed']);
  });

  it('rejects an unknown role', () => {
    expect(() => tailRoles(['requested'])).toThrow(/"requested" is not one of succeeded, failed, unknown, dlq/);
  });
});

it('packageVersion reads package.json', () => {
  expect(packageVersion()).toBe((JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
});
