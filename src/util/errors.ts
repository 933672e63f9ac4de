// What a rejection or a throw carried, for code that reports it: JavaScript lets any value be thrown.

/** The value itself when it is an Error, else an Error whose message is the value as text. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The error's message, or the thrown value as text when it is not an Error. */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
