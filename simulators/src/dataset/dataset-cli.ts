#!/usr/bin/env -S npx tsx
import { parseDatasetArgs, DATASET_USAGE } from './dataset-args.ts';
import { SPLITS } from './dataset-population.ts';
import { writeAcousticDataset, type DatasetReport } from './write-dataset.ts';

async function main(argv: readonly string[]): Promise<number> {
  const args = parseDatasetArgs(argv, process.env.INIT_CWD ?? process.cwd());
  if (args.kind === 'help') {
    process.stdout.write(`${DATASET_USAGE}\n`);
    return 0;
  }
  if (args.kind === 'error') {
    process.stderr.write(`suido-dataset: ${args.message}\n\n${DATASET_USAGE}\n`);
    return 2;
  }
  const { options, quiet } = args;
  process.stderr.write(`suido-dataset: seed ${options.seed}, writing to ${options.outDir}\n`);
  const report = await writeAcousticDataset({
    ...options,
    onProgress: quiet
      ? undefined
      : (p) => process.stderr.write(`suido-dataset: ${p.sensorsDone}/${p.sensors} sensors, ${p.frames} frames, ${(p.elapsedMs / 1000).toFixed(1)} s\n`),
  });
  process.stdout.write(`${summary(report)}\n`);
  return 0;
}

function summary(r: DatasetReport): string {
  const lines = [`${r.frames} frames in ${(r.elapsedMs / 1000).toFixed(1)} s → ${r.outDir}`];
  for (const s of SPLITS) {
    const c = r.counts[s];
    lines.push(
      `  ${s.padEnd(5)} ${String(c.sensors).padStart(6)} sensors (${c.leakSensors} leak, ${c.inaudibleSensors} of them inaudible on a quiet night; ${c.noLeakSensors} without)` +
        `  ${c.frames} frames (${c.leakFrames} leak, ${c.inaudibleFrames} inaudible; ${c.daytimeFrames} by day; ${c.clippedFrames} clipped)  ${(c.pcmBytes / 1e6).toFixed(1)} MB PCM`,
    );
  }
  return lines.join('\n');
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`suido-dataset: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
