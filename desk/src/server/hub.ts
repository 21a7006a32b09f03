/**
 * The sockets of this node, by workspace, and delivery of one event to an audience among them.
 * Delivery is local only; the fan-out (fanout.ts) carries the same (audience, event) pairs to the
 * other nodes, which deliver them to theirs.
 */
import type { DeskConnection } from './connection.js';

/** Who an event is for, inside its workspace. */
export type Audience =
  | { kind: 'operators' }
  /** The visitor sockets of one conversation. */
  | { kind: 'visitor'; conversation: string }
  /** Every visitor socket of the workspace (availability). */
  | { kind: 'visitors' };

export interface ServerEvent {
  type: string;
  [field: string]: unknown;
}

export class Hub {
  private readonly byWorkspace = new Map<string, Set<DeskConnection>>();
  readonly all = new Set<DeskConnection>();

  add(conn: DeskConnection): void {
    this.all.add(conn);
  }

  /** Files an identified socket under its workspace (after its hello). */
  join(conn: DeskConnection): void {
    const ws = conn.workspaceId;
    if (!ws) return;
    let set = this.byWorkspace.get(ws);
    if (!set) this.byWorkspace.set(ws, (set = new Set()));
    set.add(conn);
  }

  remove(conn: DeskConnection): void {
    this.all.delete(conn);
    const ws = conn.workspaceId;
    const set = ws ? this.byWorkspace.get(ws) : undefined;
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.byWorkspace.delete(ws!);
  }

  connections(workspace: string): Iterable<DeskConnection> {
    return this.byWorkspace.get(workspace) ?? [];
  }

  /** Sends `event` to the audience's sockets on this node (serialized once); returns how many. */
  deliver(workspace: string, to: Audience, event: ServerEvent, except?: DeskConnection): number {
    let text: string | undefined;
    let n = 0;
    const seq = messageSeq(event);
    for (const conn of this.connections(workspace)) {
      if (conn === except || !matches(conn, to)) continue;
      text ??= JSON.stringify(event);
      conn.send(text, seq);
      n++;
    }
    return n;
  }
}

function matches(conn: DeskConnection, to: Audience): boolean {
  const id = conn.identity;
  switch (to.kind) {
    case 'operators':
      return id.kind === 'operator';
    case 'visitor':
      return id.kind === 'visitor' && id.conversationId === to.conversation;
    case 'visitors':
      return id.kind === 'visitor';
  }
}

function messageSeq(event: ServerEvent): { conversation: string; seq: number } | undefined {
  if (event.type !== 'message.new') return undefined;
  const m = event.message as { conversation?: unknown; seq?: unknown } | undefined;
  return typeof m?.conversation === 'string' && typeof m.seq === 'number' ? { conversation: m.conversation, seq: m.seq } : undefined;
}
