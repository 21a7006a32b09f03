/**
 * What a PoP's supervisor shares with the other PoPs (docs/cluster.md), over the cluster's events
 * and documents: one secret for the edge (challenge clearances and affinity pins are valid at every
 * PoP), the pushed config, admin actions (purge, origin enable/disable/drain, under-attack mode)
 * and the directory of PoPs. With the memory backend (no `cluster.redis`) the same code runs and
 * reaches only this node.
 *
 * An action taken at this PoP is applied here at once and published; each PoP applies what others
 * publish and skips its own (the `from` of a message is the PoP id).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { PurgeRequest } from '../cache/edge-cache.js';
import type { ClusterHub } from '../cluster/ipc.js';
import { retrying } from '../cluster/retrying.js';
import { PopDirectory, type PopView } from '../cluster/pops.js';
import type { Config } from '../config/schema.js';
import { mergePushed } from '../config/pushed.js';
import { formatErrors } from '../config/load.js';
import type { UnderAttackMode } from '../shield/under-attack.js';
import type { OriginAction } from '../admin/api.js';

/** The pushed config as stored (documents `config`). */
export interface PushedConfig {
  text: string;
  /** Who pushed it, for the record. */
  by: string;
}

export interface ConfigState {
  source: 'file' | 'pushed';
  /** The pushed version running (0 for the PoP's own file). */
  version: number;
  /** SHA-256 (first 12 hex) of the pushed text, or of the PoP's own file: equal hashes, same config. */
  hash: string;
  /** The last pushed version this PoP refused, and why. */
  refused?: { version: number; error: string };
}

export interface ClusterLinkHost {
  log: Logger;
  /** The PoP's own config file (its path), read again when a push arrives. */
  file: string;
  localText(): string;
  config(): Config;
  /** Swaps the running config (workers, health, shield), as a reload does. */
  apply(next: Config, state: ConfigState): void;
  setUnderAttack(mode: UnderAttackMode): void;
  setOrigin(pool: string, origin: string, action: OriginAction): boolean;
  purge(request: PurgeRequest): Promise<unknown>;
  workers: number;
}

/** How often a PoP looks for a pushed config it may have missed the event of. */
const PUSH_POLL_MS = 5_000;

/** How long a PoP that lost the race to create the edge's secret waits for the winner's. */
const SECRET_WAIT_MS = 3_000;

export class ClusterLink {
  readonly pops: PopDirectory;
  private state: ConfigState;
  private pushedText: string | undefined;
  private readonly member: string;
  private readonly startedAt = Date.now();
  private readonly unsubscribes: (() => void)[] = [];
  private poll: NodeJS.Timeout | undefined;
  private watch: NodeJS.Timeout | undefined;

  constructor(
    private readonly shared: ClusterHub,
    private readonly host: ClusterLinkHost,
  ) {
    this.member = host.config().pop.id;
    this.state = { source: 'file', version: 0, hash: hashOf(host.localText()) };
    this.pops = new PopDirectory(
      shared.view.events,
      () => ({
        pop: this.member,
        region: host.config().pop.region,
        config: { source: this.state.source, version: this.state.version, hash: this.state.hash },
        cluster: shared.view.health(),
        workers: host.workers,
        startedAt: this.startedAt,
        at: Date.now(),
      }),
      Date.now,
      (other) =>
        host.log.error(
          { type: 'cluster', pop: this.member, otherStartedAt: new Date(other.startedAt).toISOString() },
          `another PoP runs with pop.id "${this.member}": each PoP needs its own id, or they ignore each other's purges and admin actions`,
        ),
    );
  }

  get configState(): ConfigState {
    return this.state;
  }

  /** The directory of PoPs, this one included. */
  popList(): PopView[] {
    return this.pops.list();
  }

  /**
   * Joins: the edge's secret and the pushed config if there is one, resolved before the workers
   * start so that they start with both. `listen()` follows once the supervisor can act on events.
   */
  async start(): Promise<{ secret: string; config: Config | undefined }> {
    return { secret: await this.sharedSecret(), config: await this.fetchPushed() };
  }

  /** Applies what other PoPs publish from now on, and starts the heartbeat. */
  listen(): void {
    const events = this.shared.view.events;
    this.unsubscribes.push(
      events.subscribe<{ version: number }>('config.pushed', () => void this.onPushed()),
      events.subscribe<{ mode: UnderAttackMode }>('shield.under-attack', (m) => {
        if (m.from !== this.member) this.host.setUnderAttack(m.data.mode);
      }),
      events.subscribe<{ pool: string; origin: string; action: OriginAction }>('admin.origin', (m) => {
        if (m.from !== this.member) this.host.setOrigin(m.data.pool, m.data.origin, m.data.action);
      }),
      // This PoP was away longer than the stream keeps: a purge may be among what it missed, so
      // what the cache holds can no longer be vouched for.
      events.subscribe<{ since: string; firstAvailable: string }>('cluster:gap', (m) => {
        this.host.log.warn({ type: 'cluster', ...m.data }, 'missed cluster events (away longer than the stream keeps): emptying the cache');
        this.host.purge({ everything: true }).catch((err: Error) => this.host.log.warn({ type: 'cluster', err }, 'emptying the cache after a gap failed'));
      }),
      events.subscribe<PurgeRequest>('cache.purge', (m) => {
        if (m.from !== this.member) this.host.purge(m.data).catch((err: Error) => this.host.log.warn({ type: 'cluster', err }, 'a purge from another PoP failed here'));
      }),
    );
    this.pops.start();
    // A push whose event this PoP missed (it was away, the event was dropped) is found here.
    this.poll = setInterval(() => void this.onPushed(), PUSH_POLL_MS);
    this.poll.unref();
    // One log line when the shared state goes away and one when it is back (metrics and /status
    // say it all the time).
    let connected = true;
    this.watch = setInterval(() => {
      const h = this.shared.view.health();
      if (h.connected === connected) return;
      connected = h.connected;
      if (connected) this.host.log.info({ type: 'cluster', backend: h.backend }, 'the shared state is back: other PoPs hear this one again');
      else this.host.log.warn({ type: 'cluster', backend: h.backend, error: h.error }, `the shared state is away (${h.error ?? 'no answer'}): this PoP serves alone, with its last good config`);
    }, 1_000);
    this.watch.unref();
  }

  /** A reload of the PoP's own file: with a pushed config running, the file gives only the node keys. */
  reloaded(localText: string): Config | undefined {
    if (this.pushedText === undefined) {
      this.state = { source: 'file', version: 0, hash: hashOf(localText) };
      return undefined;
    }
    const merged = mergePushed(localText, this.pushedText, this.host.file, this.state.version);
    if (!merged.ok) return undefined;
    return merged.config;
  }

  /** Publishes an action taken at this PoP so every other PoP applies it too. */
  underAttack(mode: UnderAttackMode): void {
    this.shared.view.events.publish('shield.under-attack', { mode });
  }

  origin(pool: string, origin: string, action: OriginAction): void {
    this.shared.view.events.publish('admin.origin', { pool, origin, action });
  }

  purge(request: PurgeRequest): void {
    this.shared.view.events.publish('cache.purge', request);
  }

  stop(): void {
    clearInterval(this.poll);
    clearInterval(this.watch);
    this.pops.stop();
    for (const u of this.unsubscribes) u();
  }

  /**
   * One secret for the whole edge, made by the first PoP that starts: it wins a claim, stores a
   * random secret, the others read it. Without the shared state (memory backend, Redis away at
   * start) the secret is this node's own, as before.
   */
  private async sharedSecret(): Promise<string> {
    const docs = this.shared.view.documents;
    if (this.shared.view.health().backend === 'memory') return randomBytes(32).toString('base64url');
    try {
      // A PoP that starts with Redis: the connection may still be opening; give it a moment.
      const known = await retrying(() => docs.get<string>('edge-secret'), SECRET_WAIT_MS);
      if (known) return known.value;
      if (await this.shared.view.nonces.claim('edge-secret-maker', Date.now() + 3_600_000)) {
        return (await docs.put('edge-secret', randomBytes(32).toString('base64url'))).value;
      }
      const deadline = Date.now() + SECRET_WAIT_MS;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const made = await docs.get<string>('edge-secret');
        if (made) return made.value;
      }
      throw new Error('no PoP made the edge secret in time');
    } catch (err) {
      this.host.log.warn({ type: 'cluster', err }, 'no edge-wide secret (the shared state is away): clearances and affinity pins are valid at this PoP only until it restarts');
      return randomBytes(32).toString('base64url');
    }
  }

  private async fetchPushed(): Promise<Config | undefined> {
    try {
      const doc = await retrying(() => this.shared.view.documents.get<PushedConfig>('config'), SECRET_WAIT_MS);
      if (!doc) return undefined;
      return this.adopt(doc.version, doc.value.text);
    } catch {
      return undefined; // away: the PoP's own file until a push is heard
    }
  }

  private async onPushed(): Promise<void> {
    if (this.shared.view.health().backend === 'memory') return;
    let doc: Awaited<ReturnType<typeof this.shared.view.documents.get<PushedConfig>>>;
    try {
      doc = await this.shared.view.documents.get<PushedConfig>('config');
    } catch {
      return; // the shared state is away: /status and the heartbeat say so; the running config stays
    }
    if (!doc || doc.version <= Math.max(this.state.source === 'pushed' ? this.state.version : 0, this.state.refused?.version ?? 0)) return;
    const config = this.adopt(doc.version, doc.value.text);
    if (config) this.host.apply(config, this.state);
  }

  /** Validates a pushed text over this PoP's own file; the running config stays when it is refused. */
  private adopt(version: number, text: string): Config | undefined {
    const localText = this.host.localText();
    const merged = mergePushed(localText, text, this.host.file, version);
    if (!merged.ok) {
      const error = formatErrors(merged.file, merged.errors);
      this.state = { ...this.state, refused: { version, error } };
      this.host.log.error({ type: 'config', version }, `pushed config v${version} refused, the running config stays:\n${error}`);
      return undefined;
    }
    this.pushedText = text;
    this.state = { source: 'pushed', version, hash: hashOf(text) };
    this.host.log.info({ type: 'config', version }, `running pushed config v${version}`);
    return merged.config;
  }
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
