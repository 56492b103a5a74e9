import { ScenarioError } from './scenario-error.ts';

/*
 * Field validators shared by the scenario's parts. Each returns the value or
 * the documented default, or throws a ScenarioError naming the field, what
 * was expected and what it got.
 */

export function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ScenarioError(field, `must be a JSON object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

export function onlyKeys(value: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const at = field === '' ? key : `${field}.${key}`;
      throw new ScenarioError(at, `is not a known field; expected one of ${allowed.filter((k) => k !== '$schema').join(', ')}`);
    }
  }
}

export function number(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ScenarioError(field, `must be a number from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

export function integer(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ScenarioError(field, `must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

export function boolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ScenarioError(field, `must be true or false, got ${show(value)}`);
  return value;
}

export function stringList(
  value: unknown,
  field: string,
  fallback: readonly string[],
  pattern: RegExp | undefined,
  expected: string,
  allowed?: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0) throw new ScenarioError(field, `must be a non-empty list, got ${show(value)}`);
  value.forEach((item: unknown, i) => {
    const ok = typeof item === 'string' && (pattern === undefined || pattern.test(item)) && (allowed === undefined || allowed.includes(item));
    if (!ok) throw new ScenarioError(`${field}[${i}]`, `must be ${expected}, got ${show(item)}`);
  });
  return value as string[];
}

export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
