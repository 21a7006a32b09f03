/**
 * Health: who is healthy. Config gives the origins, health marks them, selection only reads
 * (the HealthView). Monitor types (http.ts, tcp.ts, websocket.ts) sit behind Probe, picked by
 * name in probes.ts; health-state.ts holds verdicts per (pool, origin, monitor); scheduler.ts
 * runs the checks; passive.ts ejects outliers seen in real traffic (node-passive.ts: counted for
 * a whole node, whichever workers saw it); events.ts sends changes out.
 */
export type { MonitorSettings, MonitorType, Probe, ProbeResult, ProbeTarget, ProbeTls } from './types.js';
export { MONITOR_TYPES } from './types.js';
export { PROBES, createProbe, type ProbeFactory } from './probes.js';
export {
  HealthState,
  MemoryHealthStore,
  applyCheck,
  healthKey,
  initialHealth,
  type HealthChange,
  type HealthKey,
  type HealthListener,
  type HealthStatus,
  type HealthStore,
  type OriginHealth,
  type Thresholds,
} from './health-state.js';
export { createHealthChecker, type HealthChecker, type HealthCheckerOptions, type HealthTarget, type HealthView } from './scheduler.js';
export { OutlierDetector, ejectionTime, type Ejection, type OutlierMember, type OutlierOptions, type TrafficOutcome } from './passive.js';
export { FLUSH_MS, WorkerPassive, replay, tally, type EjectedList, type OutcomeTally } from './node-passive.js';
export { createWebhookSink, forwardChanges, healthEvent, logSink, type HealthEvent, type HealthEventSink, type WebhookSink, type WebhookSinkOptions, type WebhookStats } from './events.js';
