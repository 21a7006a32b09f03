/**
 * Health across the processes of one node. Active monitors run once per node, in the supervisor
 * (N workers probing would multiply the load on origins by N); their verdicts and RTTs reach the
 * workers over IPC, where selection reads them from a mirror. Passive ejection runs in each
 * worker, on the traffic that worker sees, and lets an ejected origin back when its time is up
 * and the mirror says the monitor finds it healthy.
 */
import type { ActiveHealth, HealthVerdict } from '../balancer/origin-status.js';
import type { Config } from '../config/schema.js';
import { createWebhookSink, forwardChanges, logSink, type HealthEventSink } from '../health/events.js';
import type { HealthChange } from '../health/health-state.js';
import { OutlierDetector } from '../health/passive.js';
import { createHealthChecker, type HealthChecker, type HealthTarget } from '../health/scheduler.js';
import { originTls } from '../upstream/origin.js';

/** What the supervisor tells workers: every monitored origin's verdict, every pool's RTT. */
export interface HealthMessage {
  type: 'outpost:health';
  verdicts: [originId: string, verdict: HealthVerdict][];
  rtt: [pool: string, ms: number][];
}

/** Every origin of the config as the checker sees it (monitored or not). */
export function healthTargets(config: Config): HealthTarget[] {
  const out: HealthTarget[] = [];
  for (const [pool, p] of Object.entries(config.pools)) {
    const monitor = p.monitor ? { name: p.monitor, settings: config.monitors[p.monitor] } : undefined;
    for (const o of p.origins) {
      const url = new URL(o.address);
      out.push({
        pool,
        origin: o.name,
        enabled: o.enabled,
        monitor,
        probe: { address: url, hostHeader: o.host, tls: url.protocol === 'https:' ? originTls(o) : undefined },
      });
    }
  }
  return out;
}

export interface NodeHealthOptions {
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  onChange?: (change: HealthChange) => void;
}

/** The supervisor's half: the checker, its event sinks, and the message for workers. */
export class NodeHealth {
  readonly checker: HealthChecker;
  private sinks: HealthEventSink[] = [];
  private unforward: () => void = () => {};
  private readonly recent: object[] = [];

  constructor(private config: Config, private readonly opts: NodeHealthOptions) {
    this.checker = createHealthChecker({ onError: (err) => opts.log.warn({ err }, 'health check error') });
    this.checker.onChange((change) => {
      this.recent.unshift({ ...change, at: new Date(change.at).toISOString() });
      this.recent.length = Math.min(this.recent.length, 100);
      opts.onChange?.(change);
    });
    this.apply(config);
    this.checker.start();
  }

  apply(config: Config): void {
    this.config = config;
    this.checker.setTargets(healthTargets(config));
    this.unforward();
    const old = this.sinks;
    // The logger already stamps every line with the PoP: drop the event's own copy (no duplicate key).
    const log = this.opts.log;
    const noPop = ({ pop: _pop, ...rest }: Record<string, unknown>) => rest;
    this.sinks = [logSink({ info: (o, m) => log.info(noPop(o as Record<string, unknown>), m), warn: (o, m) => log.warn(noPop(o as Record<string, unknown>), m) })];
    if (config.health.webhooks.length > 0) {
      this.sinks.push(createWebhookSink({ urls: config.health.webhooks, onError: (err, url) => this.opts.log.warn({ err, url }, 'health webhook failed') }));
    }
    this.unforward = forwardChanges(this.checker, this.sinks, config.pop.id);
    for (const s of old) void s.close();
  }

  message(): HealthMessage {
    const verdicts: HealthMessage['verdicts'] = this.checker.list().map((h) => [`${h.pool}/${h.origin}`, h.status]);
    const rtt: HealthMessage['rtt'] = [];
    for (const pool of Object.keys(this.config.pools)) {
      const ms = this.checker.poolRtt(pool);
      if (ms !== undefined) rtt.push([pool, ms]);
    }
    return { type: 'outpost:health', verdicts, rtt };
  }

  events(): object[] {
    return this.recent;
  }

  async stop(): Promise<void> {
    this.unforward();
    await this.checker.stop();
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}

/** The worker's half: active verdicts as last told, read by selection on every request. */
export class HealthMirror implements ActiveHealth {
  private verdicts = new Map<string, HealthVerdict>();
  private rtt = new Map<string, number>();

  constructor(private readonly passive?: OutlierDetector) {}

  update(m: HealthMessage): void {
    const before = this.verdicts;
    this.verdicts = new Map(m.verdicts);
    this.rtt = new Map(m.rtt);
    if (!this.passive) return;
    for (const [id, v] of m.verdicts) {
      if (v !== 'healthy') continue;
      // Seen down then up by the monitor (a restart): back at once; else when its time is up.
      if (before.get(id) === 'unhealthy') this.passive.recovered(id);
      else this.passive.activeCheck(id, true);
    }
  }

  verdict(origin: { id: string }): HealthVerdict {
    return this.verdicts.get(origin.id) ?? 'unknown';
  }

  poolRtt(pool: string): number | undefined {
    return this.rtt.get(pool);
  }
}

/** Adapts a checker running in this very process (tests, single-process use) to what selection reads. */
export function localActiveHealth(checker: HealthChecker): ActiveHealth {
  return {
    verdict: (o) => checker.state(o.pool, o.name)?.status ?? 'unknown',
    poolRtt: (pool) => checker.poolRtt(pool),
  };
}

/** Passive ejection settings of the config, for a worker's detector. */
export function outlierDetector(config: Config): OutlierDetector {
  const p = config.health.passive;
  return new OutlierDetector({
    enabled: p.enabled,
    consecutiveFailures: p.consecutiveFailures,
    baseEjectionTime: p.baseEjectionTime,
    maxEjectionTime: p.maxEjectionTime,
    maxEjectionPercent: p.maxEjectionPercent,
  });
}

/** Who exists, for the detector: every origin with its pool and whether a monitor checks it. */
export function outlierMembers(config: Config): { id: string; pool: string; monitored: boolean }[] {
  return Object.entries(config.pools).flatMap(([pool, p]) => p.origins.map((o) => ({ id: `${pool}/${o.name}`, pool, monitored: !!p.monitor })));
}
