/**
 * Reads environment variables into typed values, collecting every problem so
 * that start-up fails once with a message naming each bad variable.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class EnvReader {
  private readonly problems: string[] = [];

  private readonly env: Readonly<Record<string, string | undefined>>;
  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.env = env;
  }

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string, pattern?: RegExp): string {
    const v = this.raw(name) ?? fallback;
    if (pattern && !pattern.test(v)) this.problems.push(`${name}='${v}' must match ${pattern}`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  /** A secret, or undefined when unset. A problem names the variable and never echoes its value. */
  secret(name: string, minLength: number): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && v.length < minLength) this.problems.push(`${name} must be at least ${minLength} characters (its value is not shown)`);
    return v !== undefined && v.length >= minLength ? v : undefined;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < min || v > max) {
      this.problems.push(`${name}='${text}' must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return v;
  }

  /** A number from 0 to 1, or undefined when unset. */
  fraction(name: string): number | undefined {
    const text = this.raw(name);
    if (text === undefined) return undefined;
    const v = Number(text);
    if (!(v >= 0 && v <= 1)) {
      this.problems.push(`${name}='${text}' must be a number from 0 to 1`);
      return undefined;
    }
    return v;
  }

  oneOf<const T extends string>(name: string, fallback: T, values: readonly T[]): T {
    const v = this.raw(name) ?? fallback;
    if (!(values as readonly string[]).includes(v)) {
      this.problems.push(`${name}='${v}' must be one of ${values.join(', ')}`);
      return fallback;
    }
    return v as T;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    this.problems.push(`${name}='${v}' must be true or false`);
    return fallback;
  }

  /** A problem that spans variables (one needs another, two exclude each other). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one ConfigError listing every problem found so far. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
