/** `npm run admin -- <group> <command> ...`: administration of a Suido installation (README: Access). */
import { runAdmin } from './admin.ts';

// npm runs a workspace script inside the workspace; relative paths
// (SUIDO_DATA_DIR=./data) must mean what they mean where the user typed.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

process.exitCode = await runAdmin(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
