import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from './feature-spec.ts';
import { RECORDING_STAGE_INPUTS, judgeRecording, parseRecordingStage, stageInputCount, type RecordingStage } from './recording-stage.ts';

/** A stage by hand: one component along feature 0, weight only on it, a PRV site with a stricter threshold. */
function stage(): RecordingStage {
  const d = stageInputCount(1, 1);
  const weights = new Array<number>(d).fill(0);
  weights[1 + 1 + 2] = 2; // the component, on any main
  return {
    inputs: RECORDING_STAGE_INPUTS,
    featureMean: new Array<number>(FEATURE_COUNT).fill(0),
    featureStd: new Array<number>(FEATURE_COUNT).fill(1),
    components: [Array.from({ length: FEATURE_COUNT }, (_, j) => (j === 0 ? 1 : 0))],
    inputMean: new Array<number>(d).fill(0),
    inputStd: new Array<number>(d).fill(1),
    weights,
    bias: 0,
    sites: ['near_prv'],
    thresholds: { default: 0.6, near_prv: 0.9 },
  };
}

const features = (x: number) => Array.from({ length: FEATURE_COUNT }, (_, j) => (j === 0 ? x : 0));

describe('the recording stage in a model file', () => {
  it('judges a recording by its probability, at its site threshold where the stage has one', () => {
    const s = parseRecordingStage(JSON.stringify(stage()));
    const at = (x: number, site?: string) => judgeRecording(s, { score: 0.5, features: features(x), site });
    // Probability σ(2x): x = 0.5 gives 0.731.
    expect(at(0.5)).toEqual({ probability: expect.closeTo(0.7311, 4), threshold: 0.6, leak: true });
    expect(at(0.5, 'near_prv')).toEqual({ probability: expect.closeTo(0.7311, 4), threshold: 0.9, leak: false });
    expect(at(0.5, 'tram_line').threshold).toBe(0.6);
    expect(at(-0.5).leak).toBe(false);
  });

  it('refuses a stage of another layout, size or threshold', () => {
    const broken = (change: (s: Record<string, unknown>) => void) => {
      const s = stage() as unknown as Record<string, unknown>;
      change(s);
      return () => parseRecordingStage(JSON.stringify(s));
    };
    expect(broken((s) => (s.inputs = 'other/1'))).toThrow(/inputs 'other\/1' are not this build's/);
    expect(broken((s) => (s.featureMean = [1, 2]))).toThrow(new RegExp(`featureMean and featureStd must each hold ${FEATURE_COUNT} numbers`));
    expect(broken((s) => (s.components = []))).toThrow(/components must be a list of vectors/);
    expect(broken((s) => (s.weights = [1]))).toThrow(/inputMean, inputStd and weights must each hold 6 numbers/);
    expect(broken((s) => (s.thresholds = { default: 0.6 }))).toThrow(/thresholds from 0 to 1 for default and each of near_prv/);
    expect(broken((s) => (s.thresholds = { default: 1.2, near_prv: 0.9 }))).toThrow(/thresholds from 0 to 1/);
  });
});
