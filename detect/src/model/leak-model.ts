import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { WINDOW_SAMPLES } from './feature-spec.ts';

/** What the model file says about itself (ONNX metadata_props). */
export interface LeakModelInfo {
  readonly version: string;
  /** Score at or above which a window counts as "leak" (chosen on the validation split). */
  readonly threshold: number;
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  /** The persistence (K of N windows) the threshold was chosen for, if the file says. */
  readonly persistence: { readonly k: number; readonly n: number } | undefined;
  readonly raw: Readonly<Record<string, string>>;
}

export class ModelError extends Error {
  readonly code: 'MODEL_INVALID' | 'WINDOW_INVALID';
  constructor(code: 'MODEL_INVALID' | 'WINDOW_INVALID', message: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
  }
}

/**
 * One ONNX Runtime session for the leak model. Sessions are costly to make and
 * safe to share; callers batch windows from many sensors into one run.
 */
export class LeakModel {
  readonly info: LeakModelInfo;
  private readonly session: ort.InferenceSession;

  private constructor(session: ort.InferenceSession, info: LeakModelInfo) {
    this.session = session;
    this.info = info;
  }

  static async load(source: string | Uint8Array, opts: { threads?: number } = {}): Promise<LeakModel> {
    const bytes = typeof source === 'string' ? await readFile(source) : source;
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.threads ?? 1,
      graphOptimizationLevel: 'all',
    });
    const raw = readMetadata(bytes);
    const threshold = Number(raw.threshold);
    const sampleRateHz = Number(raw.sample_rate_hz);
    const windowSamples = Number(raw.window_samples);
    if (!Number.isFinite(threshold) || sampleRateHz <= 0 || windowSamples !== WINDOW_SAMPLES) {
      await session.release();
      throw new ModelError('MODEL_INVALID', `model metadata lacks threshold/sample_rate_hz/window_samples=${WINDOW_SAMPLES}`);
    }
    const k = Number(raw.persistence_k);
    const n = Number(raw.persistence_n);
    const persistence = Number.isInteger(k) && Number.isInteger(n) && k >= 1 && k <= n ? { k, n } : undefined;
    return new LeakModel(session, { version: raw.version ?? 'unknown', threshold, sampleRateHz, windowSamples, persistence, raw });
  }

  /** Leak probability for each window (each WINDOW_SAMPLES long, at the model's rate, full scale ±1). */
  async score(windows: readonly Float32Array[]): Promise<Float32Array> {
    if (windows.length === 0) return new Float32Array(0);
    const batch = new Float32Array(windows.length * WINDOW_SAMPLES);
    windows.forEach((w, i) => {
      if (w.length !== WINDOW_SAMPLES) throw new ModelError('WINDOW_INVALID', `window ${i} holds ${w.length} samples, not ${WINDOW_SAMPLES}`);
      batch.set(w, i * WINDOW_SAMPLES);
    });
    const input = new ort.Tensor('float32', batch, [windows.length, WINDOW_SAMPLES]);
    const out = await this.session.run({ pcm: input });
    return Float32Array.from(out.score!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** ONNX Runtime's JS API does not expose metadata_props; read them from the protobuf. */
function readMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}
