/**
 * What a regional node knows of the workspaces its visitors use, so it can welcome a new visitor
 * without asking the core first: the name and allowed origins (from the core's
 * `/regional/workspaces/<id>`, kept 5 minutes and refreshed in the background every 10 s while in
 * use), and who is at the desk (from that answer, then from every presence event and welcome the
 * core sends its visitors through this node).
 *
 * `get` never waits: it answers from what is known, or undefined (the first visitor of a
 * workspace on this node, or after the core was away for minutes) and starts a fetch, and that
 * visitor's hello goes to the core as it is.
 */
import type { AttachmentPolicy } from '../attachments/policy.js';
import type { Logger } from 'pino';
import type { Pool } from 'undici';

export interface WorkspaceFacts {
  workspace: { id: string; name: string; allowedOrigins: string[] };
  availability: { available: boolean; operators: { name: string; status: string }[] };
  /** Whether the core sends email and what it takes as attachments (a core older than these: unknown). */
  email?: boolean;
  attachments?: AttachmentPolicy | null;
}

const REFRESH_MS = 10_000;
const KEEP_MS = 5 * 60_000;
const MAX = 10_000;

export class Workspaces {
  private readonly known = new Map<string, { facts: WorkspaceFacts; at: number }>();
  private readonly fetching = new Set<string>();

  constructor(
    /** The core node to ask (the one the sockets go to now). */
    private readonly pool: () => Pool,
    private readonly secret: string,
    private readonly log: Logger,
  ) {}

  /** Workspaces known well enough to welcome their new visitors here. */
  get size(): number {
    return this.known.size;
  }

  get(id: string): WorkspaceFacts | undefined {
    const hit = this.known.get(id);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (age > REFRESH_MS) void this.fetch(id);
    return age <= KEEP_MS ? hit!.facts : undefined;
  }

  /** Who is at the desk, as the core just told a visitor (presence event or welcome). */
  availability(id: string, availability: WorkspaceFacts['availability']): void {
    const hit = this.known.get(id);
    if (hit) hit.facts = { ...hit.facts, availability };
  }

  private async fetch(id: string): Promise<void> {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    try {
      const res = await this.pool().request({ path: `/regional/workspaces/${encodeURIComponent(id)}`, method: 'GET', headers: { 'x-desk-regional': this.secret } });
      const body = (await res.body.json()) as WorkspaceFacts;
      if (res.statusCode === 404) this.known.delete(id);
      else if (res.statusCode !== 200) throw new Error(`the core answered ${res.statusCode}`);
      else {
        this.known.delete(id);
        this.known.set(id, { facts: body, at: Date.now() });
        if (this.known.size > MAX) this.known.delete(this.known.keys().next().value!);
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message, workspace: id }, 'regional: workspace fetch failed');
    } finally {
      this.fetching.delete(id);
    }
  }
}
