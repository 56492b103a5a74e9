/** A scenario that cannot be used; `field` names the offending field. */
export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
  /** Dotted path of the offending field, e.g. "fleet.householdShare"; "" for the whole document. */
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string, file?: string) {
    const where = file === undefined ? 'scenario' : `scenario ${file}`;
    super(field === '' ? `${where}: ${problem}` : `${where}: field "${field}" ${problem}`);
    this.name = 'ScenarioError';
    this.field = field;
    this.problem = problem;
  }
}
