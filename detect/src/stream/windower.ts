import { highPass } from '../audio/high-pass.ts';
import { removeMainsLines, type FittedLine } from '../audio/mains-lines.ts';
import { fromPcm16 } from '../audio/pcm16.ts';
import { resample } from '../audio/resample.ts';
import { MODEL_SAMPLE_RATE_HZ, PLAIN_FRONT_END, WINDOW_SAMPLES, type FrontEnd } from '../model/feature-spec.ts';

/**
 * Turns one sensor's frames into model windows: resample each frame to the
 * model's rate, take out infrasound (audio/high-pass.ts), join frames that
 * follow each other without a gap into one stream, and cut it into windows of `windowSeconds` every `hopSeconds`;
 * in each 1 s part, take out strong mains lines where the model's front end
 * says so (model/feature-spec.ts FrontEnd; audio/mains-lines.ts). A
 * window longer than the model's 1 s is scored as the mean of its 1 s parts.
 * The streaming detector, the WAV scoring CLI and training all cut audio
 * here, so a window means the same thing everywhere.
 */
export interface WindowingConfig {
  /** Whole seconds; the model sees 1 s at a time. */
  readonly windowSeconds: number;
  readonly hopSeconds: number;
}

export const DEFAULT_WINDOWING: WindowingConfig = { windowSeconds: 1, hopSeconds: 1 };

export interface AudioChunk {
  readonly startMs: number;
  readonly sampleRateHz: number;
  /** int16 PCM as stored, or samples already scaled to ±1. */
  readonly samples: Int16Array | Float32Array;
}

export interface Window {
  readonly startMs: number;
  readonly endMs: number;
  /** `windowSeconds` model inputs of WINDOW_SAMPLES each, at MODEL_SAMPLE_RATE_HZ. */
  readonly parts: readonly Float32Array[];
  /** The mains lines the front end took out of its parts, where it took any (score-wav tells the engineer). */
  readonly mainsLines?: readonly FittedLine[];
}

export type SkipReason = 'SAMPLE_RATE_BELOW_MODEL';

/** Two chunks closer than this (beyond an exact fit) still count as one recording. */
const CONTIGUITY_TOLERANCE_MS = 5;

export class Windower {
  private readonly config: WindowingConfig;
  private readonly frontEnd: FrontEnd;
  private buffer: Float32Array = new Float32Array(0);
  private bufferStartMs = 0;
  private expectedNextMs: number | undefined;

  constructor(config: WindowingConfig = DEFAULT_WINDOWING, frontEnd: FrontEnd = PLAIN_FRONT_END) {
    if (!Number.isInteger(config.windowSeconds) || config.windowSeconds < 1) throw new RangeError('windowSeconds must be a whole number >= 1');
    if (!(config.hopSeconds > 0)) throw new RangeError('hopSeconds must be > 0');
    if (!(frontEnd.minLineShare >= 0 && frontEnd.minLineShare <= 1)) throw new RangeError('minLineShare must be in [0, 1]');
    this.config = config;
    this.frontEnd = frontEnd;
  }

  /** The windows this chunk completes (possibly none), or why it was skipped. */
  push(chunk: AudioChunk): Window[] | SkipReason {
    // Upsampling would present an empty band as silence the device never heard.
    if (chunk.sampleRateHz < MODEL_SAMPLE_RATE_HZ) return 'SAMPLE_RATE_BELOW_MODEL';
    const scaled = chunk.samples instanceof Int16Array ? fromPcm16(chunk.samples) : chunk.samples;
    const contiguous = this.expectedNextMs !== undefined && Math.abs(chunk.startMs - this.expectedNextMs) <= CONTIGUITY_TOLERANCE_MS;
    const audio = highPass(resample(scaled, chunk.sampleRateHz, MODEL_SAMPLE_RATE_HZ), MODEL_SAMPLE_RATE_HZ);
    if (!contiguous) {
      this.buffer = audio;
      this.bufferStartMs = chunk.startMs;
    } else {
      const joined = new Float32Array(this.buffer.length + audio.length);
      joined.set(this.buffer);
      joined.set(audio, this.buffer.length);
      this.buffer = joined;
    }
    this.expectedNextMs = chunk.startMs + (chunk.samples.length * 1000) / chunk.sampleRateHz;
    return this.drain();
  }

  private drain(): Window[] {
    const windows: Window[] = [];
    const windowLength = this.config.windowSeconds * WINDOW_SAMPLES;
    const hop = Math.round(this.config.hopSeconds * MODEL_SAMPLE_RATE_HZ);
    let at = 0;
    while (at + windowLength <= this.buffer.length) {
      const cut = Array.from({ length: this.config.windowSeconds }, (_, p) => this.part(this.buffer.subarray(at + p * WINDOW_SAMPLES, at + (p + 1) * WINDOW_SAMPLES)));
      const startMs = this.bufferStartMs + (at * 1000) / MODEL_SAMPLE_RATE_HZ;
      const mainsLines = cut.flatMap((c) => c.lines);
      windows.push({ startMs, endMs: startMs + this.config.windowSeconds * 1000, parts: cut.map((c) => c.samples), ...(mainsLines.length > 0 && { mainsLines }) });
      at += hop;
    }
    if (at > 0) {
      const consumed = Math.min(at, this.buffer.length);
      this.buffer = this.buffer.slice(consumed);
      this.bufferStartMs += (consumed * 1000) / MODEL_SAMPLE_RATE_HZ;
    }
    return windows;
  }

  /** One model input: a copy, its strong mains lines out, and which they were. */
  private part(audio: Float32Array): { samples: Float32Array; lines: readonly FittedLine[] } {
    if (this.frontEnd.minLineShare === 0) return { samples: audio.slice(), lines: [] };
    return removeMainsLines(audio, MODEL_SAMPLE_RATE_HZ, this.frontEnd.minLineShare);
  }
}
