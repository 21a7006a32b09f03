/**
 * A conversation as plain text, for the transcript a visitor or an operator asks for. Internal
 * notes are never in it (they are the operators' own), whatever the caller passes. Pure.
 */
import type { Message } from '../store/types.js';
import { emailText } from './files.js';

function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function transcriptText(workspaceName: string, messages: Message[], publicUrl: string): string {
  const lines = [`Your conversation with ${workspaceName}`, ''];
  for (const m of messages) {
    if (m.note) continue;
    lines.push(`[${when(m.createdAt)}] ${m.author.name}:`, emailText(m, publicUrl), '');
  }
  return lines.join('\n');
}
