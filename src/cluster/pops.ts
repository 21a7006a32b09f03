/**
 * Who else is out there: every PoP's supervisor publishes a heartbeat on the shared events
 * (`pops.heartbeat`, every `HEARTBEAT_MS`) with what an operator asks first (which config version
 * it runs, from where, whether it reaches the shared state), and keeps a table of the heartbeats
 * it hears, its own included. `outpost status` and /status read the table. A PoP not heard for
 * `3 × HEARTBEAT_MS` is shown as `away`, then dropped after an hour.
 *
 * Events rather than a Redis hash: nothing new to keep consistent, one message per PoP every 5 s
 * (50 PoPs: 10 messages/s on the stream, each read by every PoP), and the same code works on a
 * single node (memory) where the table holds only itself.
 */
import type { Events } from './types.js';

export const HEARTBEAT_MS = 5_000;
const FORGET_MS = 3_600_000;

export interface PopHeartbeat {
  pop: string;
  region?: string;
  /** The config this PoP runs: `file` (its own) or `pushed` with the pushed version. */
  config: { source: 'file' | 'pushed'; version: number; hash: string };
  /** Whether it reaches the shared state (Redis), as it says. */
  cluster: { backend: string; connected: boolean; error?: string };
  workers: number;
  startedAt: number;
  at: number;
}

export interface PopView extends PopHeartbeat {
  /** ms since the last heartbeat arrived here. */
  lastHeardMs: number;
  state: 'up' | 'away';
}

export class PopDirectory {
  private readonly heard = new Map<string, { beat: PopHeartbeat; receivedAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  /** Another process heartbeating under this PoP's id (two PoPs given one `pop.id`). */
  private twin: { startedAt: number } | undefined;

  constructor(
    private readonly events: Events,
    private readonly self: () => PopHeartbeat,
    private readonly now: () => number = Date.now,
    private readonly onTwin: (other: PopHeartbeat) => void = () => {},
  ) {
    this.unsubscribe = events.subscribe<PopHeartbeat>('pops.heartbeat', (m) => {
      const beat = m.data;
      if (typeof beat?.pop !== 'string') return;
      const me = this.self();
      // Events from a PoP's own id are skipped as its own echo: two PoPs sharing one id would
      // never apply each other's purges. Said once per twin.
      if (beat.pop === me.pop && beat.startedAt !== me.startedAt) {
        if (this.twin?.startedAt !== beat.startedAt) this.onTwin(beat);
        this.twin = { startedAt: beat.startedAt };
        return;
      }
      this.heard.set(beat.pop, { beat, receivedAt: this.now() });
    });
  }

  start(intervalMs = HEARTBEAT_MS): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  /** Publishes this PoP's heartbeat now (also after a config change, so others see it at once). */
  beat(): void {
    this.events.publish('pops.heartbeat', { ...this.self(), at: this.now() });
  }

  list(intervalMs = HEARTBEAT_MS): PopView[] {
    const now = this.now();
    const out: PopView[] = [];
    for (const [pop, { beat, receivedAt }] of this.heard) {
      const age = now - receivedAt;
      if (age > FORGET_MS) {
        this.heard.delete(pop);
        continue;
      }
      out.push({ ...beat, lastHeardMs: age, state: age > 3 * intervalMs ? 'away' : 'up' });
    }
    return out.sort((a, b) => a.pop.localeCompare(b.pop));
  }

  /**
   * PoPs heard from in the last hour, itself included: what a global limit divides by while Redis
   * is away. Not only those up now: without Redis no heartbeat arrives, and the others are still
   * out there counting their own share.
   */
  knownCount(): number {
    return Math.max(1, this.list().length);
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }
}
