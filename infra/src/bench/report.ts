import { cpus, totalmem } from 'node:os';

/**
 * One shape for every benchmark's result, so `npm run bench` can gather them
 * into BENCHMARKS.md. A figure is only meaningful beside a baseline measured
 * in the same run on the same machine (absolute times on shared machines
 * drift; ratios hold), so a figure names its baseline and its goal.
 */
export interface BenchFigure {
  /** What was measured, e.g. "Suido end to end (durable commit before PUBACK)". */
  readonly name: string;
  readonly value: number;
  /** e.g. "reads/s", "windows/s", "s", "MiB". */
  readonly unit: string;
  /** The same-run baseline this figure is compared with. */
  readonly baseline?: { readonly name: string; readonly value: number } | undefined;
  /** The goal for the figure, or for its ratio to the baseline. */
  readonly goal?: BenchGoal | undefined;
}

export interface BenchGoal {
  /** 'ratio': value / baseline; 'value': the figure itself. */
  readonly on: 'ratio' | 'value';
  readonly op: '>=' | '<=';
  readonly target: number;
  /** Where the goal comes from, e.g. "issue 7". */
  readonly source: string;
}

export interface BenchReport {
  /** Short id, e.g. "ingest-pipeline". */
  readonly bench: string;
  readonly title: string;
  /** The parameters that decide the figures (message count, runs, batch size...). */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly figures: readonly BenchFigure[];
  /** Anything a reader needs to interpret the figures. */
  readonly notes?: readonly string[] | undefined;
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The marker `npm run bench` looks for in a benchmark's output. */
export const REPORT_MARKER = 'BENCH_REPORT ';

export function ratioOf(f: BenchFigure): number | undefined {
  return f.baseline && f.baseline.value !== 0 ? f.value / f.baseline.value : undefined;
}

/** Whether a figure meets its goal; undefined when it has none (or no baseline for a ratio goal). */
export function goalMet(f: BenchFigure): boolean | undefined {
  if (!f.goal) return undefined;
  const x = f.goal.on === 'ratio' ? ratioOf(f) : f.value;
  if (x === undefined) return undefined;
  return f.goal.op === '>=' ? x >= f.goal.target : x <= f.goal.target;
}

export function describeGoal(f: BenchFigure): string {
  if (!f.goal) return '';
  const what = f.goal.on === 'ratio' ? 'ratio' : f.unit;
  const met = goalMet(f);
  return `goal ${what} ${f.goal.op} ${f.goal.target} (${f.goal.source}): ${met === undefined ? 'n/a' : met ? 'met' : 'NOT met'}`;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

/** Prints the report for a person, then one machine-readable line for the collector. */
export function printReport(report: BenchReport): void {
  const m = machineInfo();
  console.log(`\n${report.title}`);
  console.log(`machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}`);
  console.log(`params: ${Object.entries(report.params).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  for (const f of report.figures) {
    const ratio = ratioOf(f);
    // A baseline of 0 (e.g. a latency under the tool's resolution) has no ratio.
    const vs = f.baseline ? `  (${ratio === undefined ? '' : `${fmt(ratio)}x `}${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit})` : '';
    const goal = f.goal ? `  ${describeGoal(f)}` : '';
    console.log(`  ${f.name.padEnd(52)} ${fmt(f.value).padStart(10)} ${f.unit}${vs}${goal}`);
  }
  for (const n of report.notes ?? []) console.log(`  note: ${n}`);
  console.log(REPORT_MARKER + JSON.stringify({ ...report, machine: m }));
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
