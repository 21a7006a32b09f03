/**
 * How CLI commands reach a running node: the admin API's address and token from the config
 * file, one JSON call, and a one-line error when the file, the token or the node is missing.
 */
import { request } from 'undici';
import { formatErrors, loadConfigFile } from '../config/load.js';

export type AdminReply = { ok: true; body: unknown } | { ok: false; message: string };

export async function callAdmin(file: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminReply> {
  const r = loadConfigFile(file);
  if (!r.ok) return { ok: false, message: formatErrors(r.file, r.errors) };
  const { admin, listen } = r.config;
  if (!admin.token) return { ok: false, message: `${r.file} sets no admin.token, so the node's admin API is off` };
  const url = adminUrl(listen.admin, path);
  try {
    const res = await request(url, {
      method,
      headers: { authorization: `Bearer ${admin.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { ok: false, message: `the node answered ${res.statusCode}: ${text.trim()}` };
    return { ok: true, body: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `cannot reach the admin API at ${url}: ${(e as Error).message}` };
  }
}

/** The URL of `path` on a node's admin listener (a wildcard address is reached on loopback). */
export function adminUrl(admin: { host: string; port: number }, path: string): string {
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${admin.port}${path}`;
}
