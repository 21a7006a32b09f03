/** A monitor's settings for the health tests: an HTTP GET of / every second, up or down on one result. */
import type { MonitorSettings } from '../../src/health/types.js';

export function monitorSettings(s: Partial<MonitorSettings> = {}): MonitorSettings {
  return {
    type: 'http',
    method: 'GET',
    path: '/',
    headers: {},
    expectedCodes: '2xx',
    followRedirects: false,
    interval: 1000,
    timeout: 1000,
    retries: 0,
    consecutiveUp: 1,
    consecutiveDown: 1,
    ...s,
  };
}
