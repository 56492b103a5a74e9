import { readFile } from 'node:fs/promises';
import { parseScenario, ScenarioError, type Scenario } from './scenario.ts';

/** Reads and validates a scenario file; every failure is a ScenarioError that names the file. */
export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ScenarioError('', `cannot be read: ${(err as Error).message}`, path);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError('', `is not JSON: ${(err as Error).message}`, path);
  }
  try {
    return parseScenario(doc);
  } catch (err) {
    if (err instanceof ScenarioError) throw new ScenarioError(err.field, err.problem, path);
    throw err;
  }
}
