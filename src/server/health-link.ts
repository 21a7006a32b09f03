/**
 * Health across the processes of one node, over the node's cluster events (src/cluster, `node:`
 * topics never leave the node). Active monitors run once per node, in the supervisor (N workers
 * probing would multiply the load on origins by N); their verdicts and RTTs reach the workers,
 * where selection reads them from a mirror. Passive ejection is the node's too (node-passive.ts):
 * workers tally their traffic's outcomes and send them to the supervisor's one detector, which
 * publishes who is ejected; it lets an origin back when its time is up and the monitor, right
 * here, finds it healthy. Admin overrides (enable, disable, drain) travel the same way.
 *
 *   topic / call        from → to                 data
 *   node:health         supervisor → workers      verdicts by origin id, RTT by pool (on change, every 2 s)
 *   node:ejected        supervisor → workers      the ejected list (on change, every 2 s)
 *   node:overrides      supervisor → workers      admin overrides (on change)
 *   health.outcomes     worker → supervisor       outcome tallies, every FLUSH_MS with traffic (bus call)
 */
import type { ActiveHealth, AdminOverride, HealthVerdict, OriginStatus } from '../balancer/origin-status.js';
import type { ClusterHub } from '../cluster/ipc.js';
import type { Events } from '../cluster/types.js';
import type { Config } from '../config/schema.js';
import { createWebhookSink, forwardChanges, logSink, type HealthEventSink } from '../health/events.js';
import type { HealthChange } from '../health/health-state.js';
import { WorkerPassive, isTallies, replay, type EjectedList, type OutcomeTally } from '../health/node-passive.js';
import { OutlierDetector } from '../health/passive.js';
import { createHealthChecker, type HealthChecker, type HealthTarget } from '../health/scheduler.js';
import { originTls } from '../upstream/origin.js';

export const HEALTH_TOPIC = 'node:health';
export const EJECTED_TOPIC = 'node:ejected';
export const OVERRIDES_TOPIC = 'node:overrides';
export const OUTCOMES_CALL = 'health.outcomes';

/** What the supervisor tells workers: every monitored origin's verdict, every pool's RTT. */
export interface HealthVerdicts {
  verdicts: [originId: string, verdict: HealthVerdict][];
  rtt: [pool: string, ms: number][];
}

export type OverrideList = [originId: string, override: AdminOverride][];

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
  /** The node's shared state: where verdicts and ejections are published, outcomes received. */
  shared: ClusterHub;
}

/** The supervisor's half: the checker, its event sinks, the node's outlier detector, and what workers are told. */
export class NodeHealth {
  readonly checker: HealthChecker;
  readonly outliers: OutlierDetector;
  private sinks: HealthEventSink[] = [];
  private unforward: () => void = () => {};
  private readonly recent: object[] = [];
  private readonly bus: Events;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private config: Config,
    private readonly opts: NodeHealthOptions,
  ) {
    this.bus = opts.shared.view.events;
    this.outliers = outlierDetector(config, () => this.bus.publish(EJECTED_TOPIC, this.ejected()));
    this.outliers.setOrigins(outlierMembers(config));
    opts.shared.hub.serve(OUTCOMES_CALL, (data) => {
      if (isTallies(data)) this.record(data);
      return true;
    });
    this.checker = createHealthChecker({ outliers: this.outliers, onError: (err) => opts.log.warn({ err }, 'health check error') });
    this.checker.onChange((change) => {
      this.recent.unshift({ ...change, at: new Date(change.at).toISOString() });
      this.recent.length = Math.min(this.recent.length, 100);
      // Seen down then up by the monitor (a restart): back at once, not when its ejection ends.
      if (change.from === 'unhealthy' && change.to === 'healthy') this.outliers.recovered(`${change.pool}/${change.origin}`, change.at);
      opts.onChange?.(change);
      this.bus.publish(HEALTH_TOPIC, this.verdicts());
    });
    this.apply(config);
    this.checker.start();
    // Events reach the workers attached now; a worker that starts later hears it within 2 s.
    this.timer = setInterval(() => this.publish(), 2_000);
    this.timer.unref();
  }

  apply(config: Config): void {
    this.config = config;
    this.checker.setTargets(healthTargets(config));
    this.outliers.setOrigins(outlierMembers(config));
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

  /** Tells every worker the verdicts and the ejected list (a worker just started; the timer). */
  publish(): void {
    this.bus.publish(HEALTH_TOPIC, this.verdicts());
    this.bus.publish(EJECTED_TOPIC, this.ejected());
  }

  /** A batch of a worker's traffic outcomes. */
  record(tallies: readonly OutcomeTally[]): void {
    const before = new Set(this.outliers.ejected().map((e) => e.id));
    replay(this.outliers, tallies);
    for (const e of this.outliers.ejected()) {
      if (before.has(e.id)) continue;
      this.opts.log.warn({ type: 'health', origin: e.id, times: e.times, until: new Date(e.until).toISOString() }, `origin ${e.id} ejected: consecutive failures in real traffic`);
    }
  }

  verdicts(): HealthVerdicts {
    const verdicts: HealthVerdicts['verdicts'] = this.checker.list().map((h) => [`${h.pool}/${h.origin}`, h.status]);
    const rtt: HealthVerdicts['rtt'] = [];
    for (const pool of Object.keys(this.config.pools)) {
      const ms = this.checker.poolRtt(pool);
      if (ms !== undefined) rtt.push([pool, ms]);
    }
    return { verdicts, rtt };
  }

  ejected(): EjectedList {
    return this.outliers.ejected().map(({ id, until, monitored }) => ({ id, until, monitored }));
  }

  events(): object[] {
    return this.recent;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unforward();
    await this.checker.stop();
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}

/** The worker's half of active health: verdicts as last told, read by selection on every request. */
export class HealthMirror implements ActiveHealth {
  private verdicts = new Map<string, HealthVerdict>();
  private rtt = new Map<string, number>();

  update(m: HealthVerdicts): void {
    this.verdicts = new Map(m.verdicts);
    this.rtt = new Map(m.rtt);
  }

  verdict(origin: { id: string }): HealthVerdict {
    return this.verdicts.get(origin.id) ?? 'unknown';
  }

  poolRtt(pool: string): number | undefined {
    return this.rtt.get(pool);
  }
}

/**
 * A worker's health, wired to the node: the mirror of active verdicts, passive health that sends
 * its tallies to the supervisor (fire and forget: a lost batch costs some counts, never a
 * request), and the admin overrides, all set on `status`.
 */
export function linkWorkerHealth(shared: { events: Events; spoke: { call(name: string, data: unknown, deadlineMs: number): Promise<unknown> } }, status: OriginStatus): void {
  const mirror = new HealthMirror();
  const passive = new WorkerPassive((batch) => void shared.spoke.call(OUTCOMES_CALL, batch, 1_000).catch(() => {}));
  status.active = mirror;
  status.passive = passive;
  shared.events.subscribe<HealthVerdicts>(HEALTH_TOPIC, (m) => mirror.update(m.data));
  shared.events.subscribe<EjectedList>(EJECTED_TOPIC, (m) => passive.update(m.data));
  shared.events.subscribe<OverrideList>(OVERRIDES_TOPIC, (m) => {
    status.overrides.clear();
    for (const [id, o] of m.data) status.overrides.set(id, o);
  });
}

/** Adapts a checker running in this very process (tests, single-process use) to what selection reads. */
export function localActiveHealth(checker: HealthChecker): ActiveHealth {
  return {
    verdict: (o) => checker.state(o.pool, o.name)?.status ?? 'unknown',
    poolRtt: (pool) => checker.poolRtt(pool),
  };
}

/** Passive ejection settings of the config: the node's detector, or an in-process edge's own. */
export function outlierDetector(config: Config, onChange?: () => void): OutlierDetector {
  const p = config.health.passive;
  return new OutlierDetector({
    onChange,
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
