/**
 * `outpost under-attack on|off|auto|status`: switches a running node's "I'm Under Attack" mode
 * through its admin API, without a reload (`auto` hands it back to the detector), or shows it.
 */
import { callAdmin } from './admin-client.js';

const MODES = ['on', 'off', 'auto'] as const;

export async function underAttackCommand(file: string, mode: string | undefined, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (mode !== undefined && mode !== 'status' && !(MODES as readonly string[]).includes(mode)) {
    err.write(`outpost under-attack: expected on, off, auto or status, got "${mode}"\n`);
    return 2;
  }
  const r = mode === undefined || mode === 'status' ? await callAdmin(file, 'GET', '/api/security') : await callAdmin(file, 'POST', '/api/security/under-attack', { mode });
  if (!r.ok) {
    err.write(`outpost under-attack: ${r.message}\n`);
    return 1;
  }
  const body = r.body as { underAttack?: { mode: string; active: boolean; reason: string }; mode?: string; active?: boolean; reason?: string };
  const v = body.underAttack ?? (body as { mode: string; active: boolean; reason: string });
  out.write(`under-attack mode: ${v.active ? 'ON' : 'off'} (mode ${v.mode}): ${v.reason}\n`);
  return 0;
}
