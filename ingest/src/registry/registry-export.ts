import type { DeviceRegistration } from '../store/store.ts';
import { REGISTRY_COLUMNS, type RegistryColumn } from './registry-import.ts';

/** The registry file for a list of devices, every column, CRLF as RFC 4180 has it: what `registry import` reads back. */
export function formatRegistryCsv(devices: readonly DeviceRegistration[]): string {
  const lines = [REGISTRY_COLUMNS.join(',')];
  for (const d of devices) {
    const cells: Record<RegistryColumn, string | number | null | undefined> = {
      kind: d.kind,
      id: d.id,
      district: d.district,
      lat: d.lat,
      lon: d.lon,
      pipe_id: d.pipeId,
      pipe_material: d.pipeMaterial,
      site: d.site,
      chainage_m: d.chainageM,
      source_chainage_m: d.sourceChainageM,
      register_max_l: d.registerMaxL,
      gateway: d.gatewayId,
    };
    lines.push(REGISTRY_COLUMNS.map((c) => quote(cells[c] == null ? '' : String(cells[c]))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
