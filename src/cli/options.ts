/**
 * Option value parsers shared by the commands. A bad value throws commander's
 * InvalidArgumentError; the executable turns every commander error into ConfigError's exit
 * code (see `exitCodeOf`), so a bad option exits the same way in every command.
 *
 * Where a library function checks an option's range itself (and names the option), the
 * command only parses the text (`number`, `integer`) so the check is written once.
 */
import { CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, PivotError } from '../errors.js';

/** A parser for a numeric option: text -> number, refused unless `accept` holds. */
function numberParser(what: string, accept: (n: number) => boolean): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !accept(n)) throw new InvalidArgumentError(`'${value}' is not ${what}`);
    return n;
  };
}

/** Any finite number. */
export const number = numberParser('a number', Number.isFinite);
/** Any integer (negative too): for options whose range the library checks. */
export const integer = numberParser('an integer', Number.isInteger);
/** 1, 2, 3, ... */
export const positiveInt = numberParser('a positive integer', (n) => Number.isInteger(n) && n > 0);
/** 0, 1, 2, ... */
export const nonNegativeInt = numberParser('a non-negative integer', (n) => Number.isInteger(n) && n >= 0);
/** A comma-separated list of numbers (an empty item is refused), refused unless `accept` holds for the whole list. */
export function numberList(what: string, accept: (list: number[]) => boolean): (value: string) => number[] {
  return (value: string) => {
    const list = value.split(',').map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
    if (!accept(list)) throw new InvalidArgumentError(`'${value}' is not ${what}`);
    return list;
  };
}

const numberOrAutoParser = numberParser('a number or auto', Number.isFinite);
/** A number (its range checked by the library), or the word `auto`. */
export const numberOrAuto = (value: string): number | 'auto' => (value === 'auto' ? 'auto' : numberOrAutoParser(value));

/** A number in [0, 1]. */
export const unitInterval = numberParser('a number in [0, 1]', (n) => n >= 0 && n <= 1);

/**
 * The process exit code for an error that ends a command: a PivotError's class code; for
 * commander's own errors (unknown option or command, missing or bad value) ConfigError's code,
 * except help and version, which exit 0. Undefined for anything else (a bug: let it crash).
 */
export function exitCodeOf(err: unknown): number | undefined {
  if (err instanceof PivotError) return err.exitCode;
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : ConfigError.exitCode;
  return undefined;
}
