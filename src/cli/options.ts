/** Parsers for command-line values; each throws a usage error naming the flag. */
import { InvalidArgumentError } from 'commander';

export function parseInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} takes a whole number, got ${JSON.stringify(value)}`);
  return Number.parseInt(value, 10);
}
