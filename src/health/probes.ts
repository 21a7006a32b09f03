/** Monitor types by name: the config's `type` picks the implementation. */
import { httpProbe } from './http.js';
import { tcpProbe } from './tcp.js';
import type { MonitorSettings, MonitorType, Probe } from './types.js';
import { websocketProbe } from './websocket.js';

export type ProbeFactory = (settings: MonitorSettings) => Probe;

export const PROBES: Readonly<Record<MonitorType, ProbeFactory>> = {
  http: httpProbe,
  https: httpProbe,
  tcp: tcpProbe,
  websocket: websocketProbe,
};

/** The probe for a monitor; throws on an unknown type or bad expectedCodes (the schema prevents both). */
export function createProbe(settings: MonitorSettings): Probe {
  const factory = PROBES[settings.type];
  if (!factory) throw new Error(`unknown monitor type "${settings.type}"`);
  return factory(settings);
}
