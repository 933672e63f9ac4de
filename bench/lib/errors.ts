/** A rejection or a throw as the benches report it. */
import { errorMessage } from '../../src/util/errors';

/** An Error's stack (its message when it has none), or the thrown value as text when it is not an Error. */
export function errorDetail(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : errorMessage(value);
}
