/**
 * @suido/detect: streaming leak detection (an ONNX model run with ONNX
 * Runtime over the store's frame feed), leak and meter-side alerts, and alert
 * events on MQTT.
 */
export * from './alerts/index.ts';
export * from './meter-rules/index.ts';
export { AlertEngineStateError } from './feeds/consumer-cursor.ts';
export { DetectService, type DetectServiceOptions } from './detect-service.ts';
export { loadDetectConfig, type DetectConfig } from './config.ts';
export { LeakModel, ModelError, type LeakModelInfo } from './model/leak-model.ts';
export { DEFAULT_MODEL_PATH } from './model/default-model.ts';
export { MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from './model/feature-spec.ts';
export { LeakScorer, type LeakScorerOptions, type LeakScorerPass } from './stream/leak-scorer.ts';
export { Windower, DEFAULT_WINDOWING, type Window, type WindowingConfig, type AudioChunk } from './stream/windower.ts';
export { scoreWindows } from './stream/window-scorer.ts';
export { SensorHistories, scoreSensorWindows, type SensorInput } from './stream/sensor-histories.ts';
export { CONTEXT_WINDOWS, contextRows } from './model/sensor-context.ts';
export { readWav, writeWav, WavError, type WavAudio } from './audio/wav.ts';
export { resample } from './audio/resample.ts';
export { PairCorrelator, CORRELATED_LEAK_KIND, type PairCorrelatorOptions, type PairCorrelatorPass } from './pairs/pair-correlator.ts';
export { judgePair, judgePairRecordings, NOMINAL_WAVE_SPEED_MS, PAIR_RATIO_THRESHOLD, type PairVerdict } from './pairs/pair-verdict.ts';
