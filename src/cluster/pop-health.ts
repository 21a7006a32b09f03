/**
 * Health as every PoP sees it: each PoP's supervisor publishes its monitors' verdicts and RTTs
 * (`health.verdicts`) when one changes and with every heartbeat, and keeps the latest of every
 * PoP. The admin API shows, per origin, what each PoP sees (an origin down from Singapore and up
 * from Frankfurt is a network problem, not an origin problem).
 *
 * Verdicts stay each PoP's own: steering at a PoP follows its own monitors, since reachability
 * is what differs between PoPs.
 */
import type { Events } from './types.js';

export interface OriginSeen {
  pool: string;
  origin: string;
  status: string;
  rttMs?: number;
}

export interface PopVerdicts {
  pop: string;
  origins: OriginSeen[];
  at: number;
}

export class PopHealth {
  private readonly latest = new Map<string, PopVerdicts>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly events: Events,
    private readonly pop: string,
    private readonly own: () => OriginSeen[],
  ) {
    this.unsubscribe = events.subscribe<PopVerdicts>('health.verdicts', (m) => {
      if (typeof m.data?.pop === 'string' && Array.isArray(m.data.origins)) this.latest.set(m.data.pop, m.data);
    });
  }

  /** Publishes this PoP's verdicts (on a change, and with each heartbeat). */
  publish(): void {
    this.events.publish('health.verdicts', { pop: this.pop, origins: this.own(), at: Date.now() } satisfies PopVerdicts);
  }

  /** `{ fra: { status, rttMs, at }, sin: … }` for one origin, from every PoP heard (this one included). */
  seenBy(pool: string, origin: string): Record<string, { status: string; rttMs?: number; at: string }> {
    const out: Record<string, { status: string; rttMs?: number; at: string }> = {};
    for (const [pop, v] of this.latest) {
      const o = v.origins.find((x) => x.pool === pool && x.origin === origin);
      if (o) out[pop] = { status: o.status, rttMs: o.rttMs, at: new Date(v.at).toISOString() };
    }
    return out;
  }

  stop(): void {
    this.unsubscribe();
  }
}
