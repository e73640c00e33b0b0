import { parseArgs } from 'node:util';
import { UsageError } from './io.js';
import { parseBudget, type Budget } from '../coverage/budget.js';

/**
 * Argument parsing on node:util parseArgs: it is strict about unknown flags and missing
 * values, which is all the CLI needs, so no parser dependency. What it lacks is an option
 * taking several values after one flag (`--json a.json b.json`, `--differential x y`); the
 * token stream gives that: positionals right after a "list" option are its values.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Repeatable, and takes the positionals that follow it. */
  list?: boolean;
  short?: string;
}

export type Parsed = Record<string, string | boolean | string[] | undefined>;

export function parseCommandArgs(command: string, argv: string[], specs: Record<string, OptionSpec>): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.list ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
  const values: Parsed = { ...(parsed.values as Parsed) };
  let listOption: string | undefined;
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'option') {
      listOption = specs[token.name]?.list && token.value !== undefined ? token.name : undefined;
    } else if (token.kind === 'positional') {
      if (listOption === undefined) {
        throw new UsageError(`unexpected argument "${token.value}"`, command);
      }
      const list = (values[listOption] as string[] | undefined) ?? [];
      values[listOption] = [...list, token.value];
    } else {
      listOption = undefined; // `--` ends a list
    }
  }
  return values;
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs messages end with advice about '--' that does not apply here.
  return message.replace(/\s*To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option');
}

/** An integer option within bounds, or a UsageError naming the flag. */
export function intOption(command: string, name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} must be an integer, got "${text}"`, command);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${text}`, command);
  return n;
}

/** `--budget 60s` / `--budget 5000steps`, or a UsageError naming the flag. */
export function budgetOption(command: string, value: unknown): Budget | undefined {
  if (value === undefined) return undefined;
  try {
    return parseBudget(String(value), '--budget');
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message, command);
    throw error;
  }
}

export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function listOption(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

export function requireOption(command: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`, command);
  return value;
}
