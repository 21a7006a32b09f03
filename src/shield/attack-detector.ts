/**
 * The automatic "I'm Under Attack" detector (`security.underAttack: auto`), pure: the node's
 * supervisor feeds it one sample a second (requests and mitigated requests since the previous
 * sample, summed over workers) and applies the changes it returns. No timers, no IO.
 *
 * On: the rate stays above `threshold = max(minRate, factor × baseline)` for `window`, or, at
 * ≥ `minRate` req/s, the share of requests mitigated by rules stays above `mitigatedShare` for
 * `window`. Off: after `cooldown` of calm (neither condition holds), so never before `cooldown`;
 * one hot sample during the cooldown restarts it.
 *
 * The baseline is a time-weighted EWMA of the per-second rate with a 10-minute half-life,
 * bias-corrected (sum / weight) so that it starts undefined and, until the weight saturates, is
 * simply the mean of what it has seen. It learns only normal traffic: it freezes while the mode
 * is on and on every sample over either threshold (a surge being watched). The first minute
 * (warm-up) learns everything, each sample before it is judged, because with no history nothing
 * tells a surge from a node coming into rotation: a node restarted into 500 req/s must not
 * challenge everyone, and only a jump far above the mean so far (a flood) counts as a surge.
 *
 * Why this and not Cloudflare's rule: Adaptive DDoS Protection profiles "the maximum rates of
 * traffic every day, for the past seven days", at the 95th percentile, and needs a minimum rps
 * before it builds a profile (developers.cloudflare.com/ddos-protection/managed-rulesets/
 * adaptive-protection/); its Origin Protect rule fires at "≥ 5× normal". A seven-day profile
 * needs persistent per-day history, which one supervisor restarted on deploys does not have;
 * an EWMA is O(1) state that is meaningful after a minute and follows the daily curve (with a
 * 10-minute half-life, traffic doubling over an hour leaves it ~12% behind, far inside a factor
 * of 4), while 10 seconds carry ~1% of its weight. The freeze is what keeps it from
 * learning the attack; `minRate` plays Cloudflare's minimum-rps part. A median of recent minutes
 * would shrug off short spikes too, but the freeze already excludes spikes and a median needs a
 * ring of samples.
 *
 * Known limits, by design: a pulsing flood that never stays hot for `window` and a slow ramp
 * that stays under `factor` are not caught by the rate rule (the mitigated share may catch
 * them); an attack already running when the process starts is learned during warm-up. A
 * lasting legitimate jump above `factor` keeps the mode on (the baseline is frozen): forcing
 * the mode off by hand (`override`) tells the detector the traffic is normal, and it then
 * learns every sample until returned to automatic.
 *
 * The supervisor must count in `mitigated` only what rules mitigate, not the challenges this
 * mode itself serves, or the share would hold the mode on for ever.
 */
import type { SecurityConfig } from '../config/security-schema.js';

export interface DetectorOptions {
  /** On when the rate exceeds `factor` × baseline (≥ 1)… */
  factor: number;
  /** …for this long (ms). */
  windowMs: number;
  /** Requests per second below which the mode never turns on (> 0). */
  minRate: number;
  /** Share (0–1) of mitigated requests that also counts as an attack, for `windowMs`. */
  mitigatedShare: number;
  /** Stays on at least this long (ms), and goes off after this long of calm. */
  cooldownMs: number;
}

/** A flip of the mode, for logs, the admin API and the `webhooks`. */
export interface AttackChange {
  active: boolean;
  /** The `now` of the sample (or override) that flipped it, ms epoch. */
  at: number;
  /** Human-readable: "rate 2,400/s > 4 × baseline 120/s for 10 s", "calm for 5 min: …". */
  reason: string;
  /** The last per-second rate. */
  rate: number;
  baseline: number | undefined;
}

/** Half-life of the baseline EWMA: long against a surge's `window`, short against a day. */
export const BASELINE_HALF_LIFE_MS = 10 * 60_000;
/** Learned time before surges stop being learned. */
export const BASELINE_WARMUP_MS = 60_000;
/** A sample spanning longer (the supervisor stalled, the host slept) counts as this long. */
export const MAX_SAMPLE_SPAN_MS = 60_000;
/** The span assumed for the first sample and when the clock does not advance. */
const NOMINAL_SPAN_MS = 1000;

/** The config keys (`security.auto`, durations already in ms) as detector options. */
export function detectorOptions(auto: SecurityConfig['auto']): DetectorOptions {
  return { factor: auto.factor, windowMs: auto.window, minRate: auto.minRate, mitigatedShare: auto.mitigatedShare, cooldownMs: auto.cooldown };
}

export class AttackDetector {
  private options: DetectorOptions;
  /** What the detector concludes; `active` is this unless forced by hand. */
  private autoActive = false;
  private manual: boolean | undefined;
  /**
   * The detector's own clock (ms): the sum of the samples' spans, each capped. Streaks are
   * measured on it, so a wall clock stepping back or a long stall cannot stretch or break them.
   */
  private clock = 0;
  private lastNow: number | undefined;
  private lastRate = 0;
  private lastShare = 0;
  /** Clock readings where the current runs began: rate over threshold, share over threshold, calm. */
  private rateSince: number | undefined;
  private shareSince: number | undefined;
  private calmSince: number | undefined;
  private autoSince = 0;
  /** EWMA state: baseline = sum / weight (bias-corrected, so undefined until weight > 0). */
  private sum = 0;
  private weight = 0;
  private learnedMs = 0;

  constructor(options: DetectorOptions) {
    this.options = checked(options);
  }

  /** Takes new thresholds (a config reload); the baseline and the current runs are kept. */
  reconfigure(options: DetectorOptions): void {
    this.options = checked(options);
  }

  /** Whether under-attack mode is on (forced by hand, or detected). */
  get active(): boolean {
    return this.manual ?? this.autoActive;
  }

  /** The state forced by hand, or undefined when automatic. */
  get forced(): boolean | undefined {
    return this.manual;
  }

  /** The learned normal rate (req/s); undefined before the first sample. */
  get baseline(): number | undefined {
    return this.weight > 0 ? this.sum / this.weight : undefined;
  }

  /** The rate (req/s) above which a sample counts as a surge. */
  get threshold(): number {
    return Math.max(this.options.minRate, this.options.factor * (this.baseline ?? 0));
  }

  /** The last sample's rate, per second. */
  get rate(): number {
    return this.lastRate;
  }

  /**
   * One sample: the requests and mitigated requests counted since the previous sample (normally
   * one second ago), at `now` (ms epoch). The rate is the count over the real interval, so a
   * late tick carrying three seconds of counts is not a spike; the interval counts towards the
   * runs for at most MAX_SAMPLE_SPAN_MS. Returns the change when the mode flips.
   */
  sample(now: number, requests: number, mitigated: number): AttackChange | undefined {
    if (!Number.isFinite(now)) throw new RangeError(`now must be a finite number, got ${now}`);
    if (!(requests >= 0) || !Number.isFinite(requests)) throw new RangeError(`requests must be a non-negative number, got ${requests}`);
    if (!(mitigated >= 0) || !Number.isFinite(mitigated)) throw new RangeError(`mitigated must be a non-negative number, got ${mitigated}`);
    const elapsed = this.lastNow === undefined ? NOMINAL_SPAN_MS : now - this.lastNow;
    // A clock that did not advance (or stepped back) gives no interval: assume the nominal one.
    const real = elapsed > 0 ? elapsed : NOMINAL_SPAN_MS;
    const span = Math.min(real, MAX_SAMPLE_SPAN_MS);
    this.lastNow = now;
    const rate = (requests * 1000) / real;
    const share = requests > 0 ? Math.min(mitigated, requests) / requests : 0;
    this.lastRate = rate;
    this.lastShare = share;

    // During warm-up the sample joins the baseline before it is judged: with little history,
    // normal is the mean of all seen so far, this sample included (so the first is never a surge).
    const early = this.learnedMs < BASELINE_WARMUP_MS && this.learns(false);
    if (early) this.fold(rate, span);
    const { windowMs, minRate, mitigatedShare, cooldownMs } = this.options;
    const threshold = this.threshold; // after warm-up, the baseline before this sample
    const rateHot = rate > threshold;
    const shareHot = rate >= minRate && share > mitigatedShare;
    const start = this.clock;
    this.clock += span;
    this.rateSince = rateHot ? (this.rateSince ?? start) : undefined;
    this.shareSince = shareHot ? (this.shareSince ?? start) : undefined;
    this.calmSince = rateHot || shareHot ? undefined : (this.calmSince ?? start);

    const before = this.active;
    let reason = '';
    if (!this.autoActive) {
      if (this.rateSince !== undefined && this.clock - this.rateSince >= windowMs) reason = this.rateReason();
      else if (this.shareSince !== undefined && this.clock - this.shareSince >= windowMs) {
        reason = `${percent(share)} of ${perSecond(rate)} mitigated > ${percent(mitigatedShare)} for ${duration(this.clock - this.shareSince)}`;
      }
      if (reason) {
        this.autoActive = true;
        this.autoSince = this.clock;
      }
    } else if (this.calmSince !== undefined && this.clock - this.calmSince >= cooldownMs && this.clock - this.autoSince >= cooldownMs) {
      this.autoActive = false;
      reason = `calm for ${duration(this.clock - this.calmSince)}: ${this.calmReason(threshold)}`;
    }
    if (!early && this.learns(rateHot || shareHot)) this.fold(rate, span);
    return this.active === before ? undefined : this.change(now, reason);
  }

  /**
   * The admin API's switch: forces the mode on (`true`) or off (`false`), or returns it to
   * automatic (`undefined`). Detection keeps running underneath, so returning to automatic
   * takes the detector's current view at once. Returns the change when the mode flips.
   */
  override(now: number, active: boolean | undefined): AttackChange | undefined {
    const before = this.active;
    this.manual = active;
    if (this.active === before) return undefined;
    let reason: string;
    if (active !== undefined) reason = `turned ${active ? 'on' : 'off'} by hand`;
    else if (this.autoActive) reason = `back to automatic, attack still detected: rate ${perSecond(this.lastRate)}, threshold ${perSecond(this.threshold)}, ${percent(this.lastShare)} mitigated`;
    else reason = `back to automatic, no attack detected: ${this.calmReason(this.threshold)}`;
    return this.change(now, reason);
  }

  private change(now: number, reason: string): AttackChange {
    return { active: this.active, at: now, reason, rate: this.lastRate, baseline: this.baseline };
  }

  private rateReason(): string {
    const { factor, minRate } = this.options;
    const baseline = this.baseline;
    const over =
      baseline !== undefined && factor * baseline >= minRate
        ? `${factor} × baseline ${perSecond(baseline)}`
        : `minRate ${perSecond(minRate)} (baseline ${baseline === undefined ? 'not learned yet' : perSecond(baseline)})`;
    return `rate ${perSecond(this.lastRate)} > ${over} for ${duration(this.clock - this.rateSince!)}`;
  }

  private calmReason(threshold: number): string {
    return `rate ${perSecond(this.lastRate)} ≤ ${perSecond(threshold)}, ${percent(this.lastShare)} mitigated`;
  }

  /**
   * Whether a sample may join the baseline: not while the mode is on (detected or forced), and
   * after warm-up not when over either threshold. Forced off by hand means "this traffic is
   * normal": then everything is learned, or a lasting legitimate jump would stay frozen out.
   */
  private learns(hot: boolean): boolean {
    if (this.manual === false) return true;
    if (this.autoActive || this.manual === true) return false;
    return !hot || this.learnedMs < BASELINE_WARMUP_MS;
  }

  /** Folds one sample into the EWMA; weights are 1 − 2^(−span / half-life), so uneven intervals weigh what they cover. */
  private fold(rate: number, span: number): void {
    const keep = 2 ** (-span / BASELINE_HALF_LIFE_MS);
    this.sum = this.sum * keep + rate * (1 - keep);
    this.weight = this.weight * keep + (1 - keep);
    this.learnedMs = Math.min(this.learnedMs + span, BASELINE_WARMUP_MS);
  }
}

function checked(o: DetectorOptions): DetectorOptions {
  const bad = (name: string, rule: string, v: number) => new RangeError(`${name} must be ${rule}, got ${v}`);
  if (!(o.factor >= 1) || !Number.isFinite(o.factor)) throw bad('factor', 'a number ≥ 1', o.factor);
  if (!(o.windowMs >= 0) || !Number.isFinite(o.windowMs)) throw bad('windowMs', 'a non-negative number', o.windowMs);
  if (!(o.minRate > 0) || !Number.isFinite(o.minRate)) throw bad('minRate', 'a positive number', o.minRate);
  if (!(o.mitigatedShare >= 0 && o.mitigatedShare <= 1)) throw bad('mitigatedShare', 'between 0 and 1', o.mitigatedShare);
  if (!(o.cooldownMs >= 0) || !Number.isFinite(o.cooldownMs)) throw bad('cooldownMs', 'a non-negative number', o.cooldownMs);
  return { ...o };
}

/** 2400 → "2,400/s"; below 10, one decimal ("2.5/s"). */
function perSecond(rate: number): string {
  return `${rate.toLocaleString('en-US', { maximumFractionDigits: rate < 10 ? 1 : 0 })}/s`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** 10_000 → "10 s", 300_000 → "5 min", 150_000 → "2 min 30 s", 5_400_000 → "1 h 30 min". */
function duration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) {
    const s = Math.floor((ms % 60_000) / 1000);
    return `${Math.floor(ms / 60_000)} min${s ? ` ${s} s` : ''}`;
  }
  const min = Math.floor((ms % 3_600_000) / 60_000);
  return `${Math.floor(ms / 3_600_000)} h${min ? ` ${min} min` : ''}`;
}
