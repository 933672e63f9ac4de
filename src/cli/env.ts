/** For the small CLIs: one variable, with a message that says what to set. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (for the local stack: eval "$(npm run -s stack:up | grep =)" or see README.md)`);
  return value;
}
