/**
 * `npm run bench`: runs every workspace's `bench` script one after another
 * (never in parallel: they would measure each other), echoes their output as
 * it comes, gathers each BenchReport they print and writes BENCHMARKS.md and
 * benchmarks.json at the repository root.
 *
 *   npm run bench                      all workspaces with a bench script
 *   BENCH_ONLY=ingest,detect npm run bench
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_MARKER, describeGoal, goalMet, machineInfo, ratioOf, type BenchReport, type MachineInfo } from './report.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Collected {
  readonly workspace: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly reports: (BenchReport & { machine: MachineInfo })[];
}

function benchWorkspaces(): string[] {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  return root.workspaces.filter((ws) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, ws, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    return pkg.scripts?.bench !== undefined && (!only || only.includes(ws));
  });
}

function runBench(workspace: string): Promise<Collected> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'bench', '--silent', '-w', workspace], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const reports: Collected['reports'] = [];
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(REPORT_MARKER)) reports.push(JSON.parse(line.slice(REPORT_MARKER.length)) as Collected['reports'][number]);
        else process.stdout.write(`[${workspace}] ${line}\n`);
      }
    });
    child.on('close', (code) => resolve({ workspace, ok: code === 0, seconds: (performance.now() - started) / 1000, reports }));
  });
}

const num = (x: number): string => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

function markdown(results: readonly Collected[], machine: MachineInfo, at: Date): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    `*Written by \`npm run bench\` on ${at.toISOString()}. Do not edit; rerun.*`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}.`,
    '',
    'Every figure stands beside a baseline measured in the same run on the same machine: absolute rates on a',
    'shared machine drift from run to run, the ratios hold. Goals come from the issues; a goal not met says so.',
    '',
  ];
  const goals: string[] = [];
  for (const r of results) {
    if (!r.ok) out.push(`## ${r.workspace}: FAILED`, '', `The \`bench\` script of ${r.workspace} exited non-zero after ${r.seconds.toFixed(0)} s; see its output.`, '');
    for (const rep of r.reports) {
      out.push(`## ${rep.title}`, '', `\`${rep.bench}\` (${r.workspace}) · ${Object.entries(rep.params).map(([k, v]) => `${k} ${v}`).join(' · ')}`, '');
      out.push('| figure | value | baseline (same run) | ratio | goal |', '|---|---|---|---|---|');
      for (const f of rep.figures) {
        const ratio = ratioOf(f);
        const met = goalMet(f);
        out.push(
          `| ${f.name} | ${num(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${num(f.baseline.value)} ${f.unit}` : ''} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}×`} | ${f.goal ? `${f.goal.on === 'ratio' ? 'ratio' : ''} ${f.goal.op} ${f.goal.target}: ${met === undefined ? 'n/a' : met ? 'met' : '**NOT met**'}` : ''} |`,
        );
        if (f.goal) goals.push(`- ${rep.title} — ${f.name}: ${describeGoal(f)}`);
      }
      for (const n of rep.notes ?? []) out.push('', `Note: ${n}`);
      out.push('');
    }
  }
  if (goals.length > 0) out.push('## Goals at a glance', '', ...goals, '');
  return out.join('\n');
}

const workspaces = benchWorkspaces();
console.log(`benchmarks: ${workspaces.join(', ')} (one after another)`);
const results: Collected[] = [];
for (const ws of workspaces) {
  console.log(`\n=== ${ws}`);
  results.push(await runBench(ws));
}
const at = new Date();
const machine = machineInfo();
writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown(results, machine, at));
writeFileSync(join(ROOT, 'benchmarks.json'), `${JSON.stringify({ at: at.toISOString(), machine, results }, null, 2)}\n`);
console.log(`\nwrote BENCHMARKS.md and benchmarks.json (${results.reduce((n, r) => n + r.reports.length, 0)} reports)`);
const failed = results.filter((r) => !r.ok).map((r) => r.workspace);
if (failed.length > 0) {
  console.error(`bench failed in: ${failed.join(', ')}`);
  process.exitCode = 1;
}
