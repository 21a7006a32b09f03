/**
 * Who is at the desk: operators online or away, per workspace, across nodes. Each node knows its
 * own operators exactly (their sockets) and learns the others' from what they publish on Redis,
 * kept for a TTL so a node that dies drops out by itself. Pure: the caller passes the time.
 * An operator connected to several nodes (two tabs) counts once, with the best status.
 */

export type OperatorStatus = 'online' | 'away';

export interface PresenceEntry {
  id: string;
  name: string;
  status: OperatorStatus;
}

interface LocalOperator {
  name: string;
  status: OperatorStatus;
  connections: number;
}

export class PresenceBoard {
  private readonly local = new Map<string, Map<string, LocalOperator>>();
  private readonly remote = new Map<string, Map<string, { operators: PresenceEntry[]; expiresAt: number }>>();

  /** An operator's socket joined; a new operator starts online. */
  connect(workspace: string, id: string, name: string): void {
    const ops = this.localOf(workspace);
    const op = ops.get(id);
    if (op) op.connections += 1;
    else ops.set(id, { name, status: 'online', connections: 1 });
  }

  /** An operator's socket left; the operator leaves the board with its last socket. */
  disconnect(workspace: string, id: string): void {
    const ops = this.local.get(workspace);
    const op = ops?.get(id);
    if (!ops || !op) return;
    op.connections -= 1;
    if (op.connections <= 0) ops.delete(id);
    if (ops.size === 0) this.local.delete(workspace);
  }

  setStatus(workspace: string, id: string, status: OperatorStatus): void {
    const op = this.local.get(workspace)?.get(id);
    if (op) op.status = status;
  }

  /** This node's operators in a workspace (what it publishes). */
  localEntries(workspace: string): PresenceEntry[] {
    return [...(this.local.get(workspace) ?? new Map<string, LocalOperator>())].map(([id, o]) => ({ id, name: o.name, status: o.status }));
  }

  localWorkspaces(): string[] {
    return [...this.local.keys()];
  }

  /** What another node published: its whole list for the workspace, valid for `ttlMs`. */
  applyRemote(workspace: string, node: string, operators: PresenceEntry[], ttlMs: number, now: number): void {
    let nodes = this.remote.get(workspace);
    if (!nodes) this.remote.set(workspace, (nodes = new Map()));
    if (operators.length === 0) nodes.delete(node);
    else nodes.set(node, { operators, expiresAt: now + ttlMs });
    if (nodes.size === 0) this.remote.delete(workspace);
  }

  /** Drops remote lists past their TTL; returns the workspaces whose presence changed. */
  sweep(now: number): string[] {
    const changed: string[] = [];
    for (const [workspace, nodes] of this.remote) {
      for (const [node, entry] of nodes) {
        if (entry.expiresAt <= now) {
          nodes.delete(node);
          if (!changed.includes(workspace)) changed.push(workspace);
        }
      }
      if (nodes.size === 0) this.remote.delete(workspace);
    }
    return changed;
  }

  /** Everyone at the desk in a workspace, merged across nodes, sorted by name. */
  list(workspace: string, now: number): PresenceEntry[] {
    const merged = new Map<string, PresenceEntry>();
    const add = (e: PresenceEntry): void => {
      const seen = merged.get(e.id);
      if (!seen || (seen.status === 'away' && e.status === 'online')) merged.set(e.id, e);
    };
    this.localEntries(workspace).forEach(add);
    for (const entry of this.remote.get(workspace)?.values() ?? []) if (entry.expiresAt > now) entry.operators.forEach(add);
    return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  private localOf(workspace: string): Map<string, LocalOperator> {
    let ops = this.local.get(workspace);
    if (!ops) this.local.set(workspace, (ops = new Map()));
    return ops;
  }
}

/** A visitor's availability: someone is online (away operators do not count). */
export function available(operators: PresenceEntry[]): boolean {
  return operators.some((o) => o.status === 'online');
}
