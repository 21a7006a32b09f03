/**
 * "I'm Under Attack" mode for the node, held by the supervisor: the mode (`off`, `on`, `auto`:
 * the config's `security.underAttack`, or what the admin API / CLI set last, kept across
 * reloads), the automatic detector fed with the node's traffic every second, and every change as
 * an event: a log line, metrics, the admin API's list, and a JSON POST to each webhook. Workers
 * hear only "on" or "off".
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { SecurityConfig } from '../config/security-schema.js';
import { AttackDetector, detectorOptions } from './attack-detector.js';

export type UnderAttackMode = 'off' | 'on' | 'auto';

export interface UnderAttackEvent {
  at: string;
  active: boolean;
  /** `admin` (API or CLI), `auto` (the detector), `config` (a reload). */
  cause: 'admin' | 'auto' | 'config';
  reason: string;
}

const MAX_EVENTS = 100;

export class UnderAttackControl {
  private config: SecurityConfig;
  private override: UnderAttackMode | undefined;
  private readonly detector: AttackDetector;
  private activeNow = false;
  private since = Date.now();
  private reason = 'not under attack';
  private readonly events: UnderAttackEvent[] = [];
  private readonly gauge: Gauge;
  private readonly changes: Counter<'to' | 'cause'>;

  constructor(
    config: SecurityConfig,
    private readonly opts: { log: Logger; registry: Registry; onChange: (active: boolean) => void },
  ) {
    this.config = config;
    this.detector = new AttackDetector(detectorOptions(config.auto));
    this.gauge = new Gauge({ name: 'outpost_under_attack', help: 'Under-attack mode of this PoP: 1 on, 0 off', registers: [opts.registry] });
    this.changes = new Counter({
      name: 'outpost_under_attack_changes_total',
      help: 'Under-attack mode changes, by new state and cause (admin, auto, config)',
      labelNames: ['to', 'cause'] as const,
      registers: [opts.registry],
    });
    this.gauge.set(0);
  }

  get active(): boolean {
    return this.activeNow;
  }

  get mode(): UnderAttackMode {
    return this.override ?? this.config.underAttack;
  }

  /** A reload: new thresholds (the detector keeps its baseline), and the configured mode unless the admin chose one. */
  apply(config: SecurityConfig): void {
    this.config = config;
    this.detector.reconfigure(detectorOptions(config.auto));
    this.follow('config');
  }

  /** The admin API / CLI: `on`, `off`, or `auto` (the detector decides). */
  set(mode: UnderAttackMode): void {
    this.override = mode;
    // Forced off tells the detector the traffic is normal (it learns it); auto hands it back.
    this.detector.override(Date.now(), mode === 'auto' ? undefined : mode === 'on');
    this.follow('admin');
  }

  /** The node's traffic in the last second (summed over workers). */
  sample(now: number, requests: number, mitigated: number): void {
    const change = this.detector.sample(now, requests, mitigated);
    if (change && this.mode === 'auto') this.change(change.active, 'auto', change.reason);
  }

  view(): object {
    return {
      mode: this.mode,
      configured: this.config.underAttack,
      active: this.activeNow,
      since: new Date(this.since).toISOString(),
      reason: this.reason,
      rate: Math.round(this.detector.rate),
      baseline: this.detector.baseline === undefined ? undefined : Math.round(this.detector.baseline),
      thresholds: this.config.auto,
      events: [...this.events].reverse(),
    };
  }

  private follow(cause: 'admin' | 'config'): void {
    const mode = this.mode;
    if (mode === 'on') this.change(true, cause, `turned on by ${cause === 'admin' ? 'the admin API' : 'the config'}`);
    else if (mode === 'off') this.change(false, cause, `turned off by ${cause === 'admin' ? 'the admin API' : 'the config'}`);
    else this.change(this.detector.active, cause, `automatic mode (${cause}): ${this.detector.active ? 'the detector sees an attack' : 'traffic is calm'}`);
  }

  private change(active: boolean, cause: UnderAttackEvent['cause'], reason: string): void {
    if (active === this.activeNow) return;
    this.activeNow = active;
    this.since = Date.now();
    this.reason = reason;
    const event: UnderAttackEvent = { at: new Date(this.since).toISOString(), active, cause, reason };
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    this.gauge.set(active ? 1 : 0);
    this.changes.inc({ to: active ? 'on' : 'off', cause });
    this.opts.log.warn({ type: 'under-attack', ...event }, `under-attack mode ${active ? 'ON' : 'off'}: ${reason}`);
    this.opts.onChange(active);
    for (const url of this.config.auto.webhooks) void this.notify(url, event);
  }

  private async notify(url: string, event: UnderAttackEvent): Promise<void> {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'outpost' },
        body: JSON.stringify({ type: 'under-attack', ...event }),
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      await res.body.dump();
      if (res.statusCode >= 300) this.opts.log.warn({ type: 'webhook', url, status: res.statusCode }, 'under-attack webhook refused');
    } catch (err) {
      this.opts.log.warn({ type: 'webhook', url, err: (err as Error).message }, 'under-attack webhook failed');
    }
  }
}
