import type { Observation } from './meter-conditions.ts';

/** One rule's state for one meter, persisted with the alert changes it causes. */
export interface RuleState {
  /** Raised and not yet cleared. */
  readonly active: boolean;
  /** While active: the first judgement (data time) of the current run of `absent`. */
  readonly absentSinceMs: number | null;
}

export const IDLE: RuleState = { active: false, absentSinceMs: null };

export type RuleOp = 'raise' | 'refresh' | 'clear' | 'none';

/**
 * Raise on the first `present`; refresh while present; clear once the
 * condition has been proven absent for `clearAfterMs` without a `present`
 * in between. `unknown` (a gap in the reads) changes nothing.
 */
export function stepRule(state: RuleState, observation: Observation, atMs: number, clearAfterMs: number): { state: RuleState; op: RuleOp } {
  switch (observation.status) {
    case 'present':
      return { state: { active: true, absentSinceMs: null }, op: state.active ? 'refresh' : 'raise' };
    case 'unknown':
      return { state, op: 'none' };
    case 'absent': {
      if (!state.active) return { state, op: 'none' };
      const since = state.absentSinceMs ?? atMs;
      if (atMs - since >= clearAfterMs) return { state: IDLE, op: 'clear' };
      return { state: { active: true, absentSinceMs: since }, op: 'none' };
    }
  }
}
