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

/** A workspace's sockets on this node, filed by who they are, so delivery touches only its audience. */
interface Room {
  operators: Set<DeskConnection>;
  visitors: Set<DeskConnection>;
  byConversation: Map<string, Set<DeskConnection>>;
}

interface Filing {
  workspace: string;
  kind: 'operator' | 'visitor';
  conversation?: string;
}

export class Hub {
  private readonly rooms = new Map<string, Room>();
  private readonly filed = new Map<DeskConnection, Filing>();
  readonly all = new Set<DeskConnection>();

  add(conn: DeskConnection): void {
    this.all.add(conn);
  }

  /** Files an identified socket under its workspace, as operator or as its conversation's visitor (after its hello). */
  join(conn: DeskConnection): void {
    this.unfile(conn);
    const id = conn.identity;
    if (id.kind === 'none') return;
    let room = this.rooms.get(id.workspaceId);
    if (!room) this.rooms.set(id.workspaceId, (room = { operators: new Set(), visitors: new Set(), byConversation: new Map() }));
    if (id.kind === 'operator') {
      room.operators.add(conn);
      this.filed.set(conn, { workspace: id.workspaceId, kind: 'operator' });
      return;
    }
    room.visitors.add(conn);
    let conv = room.byConversation.get(id.conversationId);
    if (!conv) room.byConversation.set(id.conversationId, (conv = new Set()));
    conv.add(conn);
    this.filed.set(conn, { workspace: id.workspaceId, kind: 'visitor', conversation: id.conversationId });
  }

  remove(conn: DeskConnection): void {
    this.all.delete(conn);
    this.unfile(conn);
  }

  private unfile(conn: DeskConnection): void {
    const f = this.filed.get(conn);
    if (!f) return;
    this.filed.delete(conn);
    const room = this.rooms.get(f.workspace)!;
    if (f.kind === 'operator') room.operators.delete(conn);
    else {
      room.visitors.delete(conn);
      const conv = room.byConversation.get(f.conversation!)!;
      conv.delete(conn);
      if (conv.size === 0) room.byConversation.delete(f.conversation!);
    }
    if (room.operators.size === 0 && room.visitors.size === 0) this.rooms.delete(f.workspace);
  }

  /** Sends `event` to the audience's sockets on this node (serialized once); returns how many. */
  deliver(workspace: string, to: Audience, event: ServerEvent, except?: DeskConnection): number {
    const room = this.rooms.get(workspace);
    if (!room) return 0;
    const audience = to.kind === 'operators' ? room.operators : to.kind === 'visitors' ? room.visitors : room.byConversation.get(to.conversation);
    if (!audience) return 0;
    let text: string | undefined;
    let n = 0;
    const seq = messageSeq(event);
    for (const conn of audience) {
      if (conn === except) continue;
      text ??= JSON.stringify(event);
      conn.send(text, seq);
      n++;
    }
    return n;
  }
}

function messageSeq(event: ServerEvent): { conversation: string; seq: number } | undefined {
  if (event.type !== 'message.new') return undefined;
  const m = event.message as { conversation?: unknown; seq?: unknown } | undefined;
  return typeof m?.conversation === 'string' && typeof m.seq === 'number' ? { conversation: m.conversation, seq: m.seq } : undefined;
}
