import type { PipeMaterial } from '@suido/ingest';
import { weightedIndex } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import { drawBackground, type Background } from './background.ts';
import { drawMainsHum, type MainsHumSite } from './confounders/mains-hum.ts';
import { drawPrv, type PrvSite } from './confounders/prv.ts';
import { drawPump, type PumpSite } from './confounders/pump.ts';
import { drawRainExposure, type RainExposure } from './confounders/rain.ts';
import { drawTraffic, type TrafficSite } from './confounders/traffic.ts';
import { drawTram, type TramSite } from './confounders/tram.ts';
import { drawWaterUse, type WaterUseSite } from './confounders/water-use-noise.ts';
import { ENVIRONMENT_WEIGHTS, ENVIRONMENTS, type Environment } from './environment.ts';
import { drawPipe, isPlastic, type PipeSegment } from './pipe/pipe-acoustics.ts';
import { drawHardware, type SensorHardware, type SensorType } from './sensor-hardware.ts';

/**
 * One sensor where it is installed: the pipe it listens to, the device, and
 * the surroundings that bring their own noise. Fixed for the sensor's life;
 * what changes night to night is in NightConditions, frame to frame in the
 * frame's own stream.
 */
export interface AcousticSite {
  readonly material: PipeMaterial;
  readonly environment: Environment;
  readonly pipe: PipeSegment;
  readonly hardware: SensorHardware;
  readonly background: Background;
  readonly traffic: TrafficSite;
  readonly waterUse: WaterUseSite;
  readonly rain: RainExposure;
  readonly mainsHum: MainsHumSite;
  readonly tram: TramSite | undefined;
  readonly pump: PumpSite | undefined;
  readonly prv: PrvSite | undefined;
}

export interface SiteOptions {
  readonly material?: PipeMaterial | undefined;
  readonly environment?: Environment | undefined;
  readonly sensorType?: SensorType | undefined;
  readonly sampleRateHz?: number | undefined;
}

const MATERIALS: readonly PipeMaterial[] = ['ductile_iron', 'cast_iron', 'steel', 'asbestos_cement', 'pvc', 'pe'];
/**
 * Japan's mains are mostly ductile iron, with PVC and PE the main plastics;
 * cast iron and asbestos cement remain on older lines. The shares give
 * plastic more room than the national census would, because the detector
 * will be judged on hydrophones on PVC too.
 */
const MATERIAL_WEIGHTS = [0.33, 0.08, 0.1, 0.09, 0.25, 0.15];

/** Utilities put hydrophones on plastic mains more often: accelerometers hear little on soft walls. */
function hydrophoneShare(material: PipeMaterial): number {
  if (isPlastic(material)) return 0.6;
  return material === 'asbestos_cement' ? 0.4 : 0.25;
}

export function drawMaterial(rng: Rng): PipeMaterial {
  return MATERIALS[weightedIndex(rng, MATERIAL_WEIGHTS)]!;
}

export function drawEnvironment(rng: Rng): Environment {
  return ENVIRONMENTS[weightedIndex(rng, ENVIRONMENTS.map((e) => ENVIRONMENT_WEIGHTS[e]))]!;
}

/**
 * Draws a site. Each part has its own stream under one site seed, so fixing
 * a part (a scenario's environment, a dataset's sample rate) leaves every
 * other part as it would have been.
 */
export function drawAcousticSite(rng: Rng, opts: SiteOptions = {}): AcousticSite {
  const seed = rng.uint32();
  const part = (label: string) => createRng(seed, label);
  const drawnMaterial = drawMaterial(part('material'));
  const drawnEnvironment = drawEnvironment(part('environment'));
  const material = opts.material ?? drawnMaterial;
  const environment = opts.environment ?? drawnEnvironment;
  const background = drawBackground(part('background'), material, environment);
  return {
    material,
    environment,
    pipe: drawPipe(material, part('pipe')),
    hardware: drawHardware(part('hardware'), { type: opts.sensorType, sampleRateHz: opts.sampleRateHz, hydrophoneShare: hydrophoneShare(material) }),
    background,
    traffic: drawTraffic(part('traffic'), environment),
    waterUse: drawWaterUse(part('water-use'), environment),
    rain: drawRainExposure(part('rain')),
    mainsHum: drawMainsHum(part('mains-hum'), background.levelDb, environment === 'near_pump'),
    tram: environment === 'tram_line' ? drawTram(part('tram')) : undefined,
    pump: environment === 'near_pump' ? drawPump(part('pump')) : undefined,
    prv: environment === 'near_prv' ? drawPrv(part('prv'), material) : undefined,
  };
}
