/** `npm run build -w dashboards`: writes the dashboards' JSON and Grafana's provisioning files (README: Dashboards). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOutputs } from './build.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
for (const [path, content] of Object.entries(buildOutputs())) {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  console.log(`wrote ${relative(process.cwd(), file) || file}`);
}
