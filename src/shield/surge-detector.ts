/**
 * The automatic "I'm Under Attack" detector, pure: fed once a second with the node's request
 * count and the count of requests mitigated by rules, it says when the mode should turn on or off.
 *
 * - **Baseline**: an exponentially weighted average of the request rate, half-life 5 minutes
 *   (weighted by the real interval between samples, so gaps count as what they are). It learns
 *   only from calm samples while the mode is off: a surge, or the attack itself, never becomes
 *   the new normal. The first `window` of samples only learns (no history, no verdict on rate).
 * - **Surge**: the rate above max(`minRate`, `factor` × baseline), or at least `minRate` requests
 *   with `mitigatedShare` of them blocked or challenged by rules.
 * - **On** when every sample over `window` was a surge; **off** once the mode has been on for
 *   `cooldown` and the last `cooldown` was calm. A surge during the cooldown starts it again.
 *
 * Cloudflare's automatic mode (Security Level "I'm Under Attack" turned on by its DDoS systems or
 * by a Worker watching the origin's error rate) compares traffic to the zone's usual profile in the
 * same way; HAProxy and nginx leave it to the operator.
 */
export interface DetectorOptions {
  factor: number;
  windowMs: number;
  minRate: number;
  mitigatedShare: number;
  cooldownMs: number;
}

export interface AttackChange {
  active: boolean;
  at: number;
  reason: string;
  rate: number;
  baseline: number | undefined;
}

const HALF_LIFE_MS = 5 * 60_000;

export class AttackDetector {
  private options: DetectorOptions;
  private base: number | undefined;
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private lastRate = 0;
  private on = false;
  private onAt = 0;
  /** Start of the current run of surging samples, or of calm ones while on. */
  private surgeFrom: number | undefined;
  private calmFrom: number | undefined;

  constructor(options: DetectorOptions) {
    this.options = options;
  }

  get active(): boolean {
    return this.on;
  }

  get baseline(): number | undefined {
    return this.base;
  }

  get rate(): number {
    return this.lastRate;
  }

  /** New thresholds (a reload); the learned baseline stays. */
  reconfigure(options: DetectorOptions): void {
    this.options = options;
  }

  /** One sample: the counts since the previous one. Returns the change when the state flips. */
  sample(now: number, requests: number, mitigated: number): AttackChange | undefined {
    const o = this.options;
    const from = this.lastAt ?? now - 1000;
    const dt = Math.max(1, now - from);
    this.lastAt = now;
    this.firstAt ??= from;
    const rate = (requests * 1000) / dt;
    this.lastRate = rate;
    const threshold = Math.max(o.minRate, o.factor * (this.base ?? 0));
    const learning = now - this.firstAt < o.windowMs;
    const byRate = !learning && rate > threshold;
    const byShare = rate >= o.minRate && requests > 0 && mitigated / requests >= o.mitigatedShare;
    const surge = byRate || byShare;

    if (!this.on && !surge) {
      const alpha = 1 - 2 ** (-dt / HALF_LIFE_MS);
      this.base = this.base === undefined ? rate : this.base + alpha * (rate - this.base);
    }
    if (surge) {
      this.surgeFrom ??= from;
      this.calmFrom = undefined;
    } else {
      this.surgeFrom = undefined;
      this.calmFrom ??= from;
    }

    if (!this.on && this.surgeFrom !== undefined && now - this.surgeFrom >= o.windowMs) {
      this.on = true;
      this.onAt = now;
      const why = byRate
        ? `rate ${fmt(rate)}/s > ${o.factor} × baseline ${fmt(this.base ?? 0)}/s (min ${fmt(o.minRate)}/s) for ${secs(o.windowMs)}`
        : `${Math.round((mitigated / requests) * 100)}% of ${fmt(rate)} requests/s mitigated by rules for ${secs(o.windowMs)}`;
      return { active: true, at: now, reason: why, rate, baseline: this.base };
    }
    if (this.on && now - this.onAt >= o.cooldownMs && this.calmFrom !== undefined && now - this.calmFrom >= o.cooldownMs) {
      this.on = false;
      return { active: false, at: now, reason: `calm for ${secs(o.cooldownMs)}: rate ${fmt(rate)}/s, baseline ${fmt(this.base ?? 0)}/s`, rate, baseline: this.base };
    }
    return undefined;
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function secs(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}
