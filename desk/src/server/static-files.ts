/**
 * The files of desk/public (widget, inbox, demo page), as they are on disk. Scripts and styles are
 * cacheable for 5 minutes (`Cache-Control: public, max-age=300`) so the edge serves them near the
 * visitor; pages are revalidated (`no-cache`) so a deploy shows at once. Weak ETags from size and
 * mtime answer conditional requests with 304. `/` is index.html, `/inbox` is inbox.html. Pages carry a
 * Content-Security-Policy (pagePolicy).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const CACHEABLE = new Set(['.js', '.mjs', '.css']);

/**
 * Content-Security-Policy of the pages (W3C CSP Level 3). The inbox runs only its own module
 * scripts and styles and talks only to its own origin ('self' covers ws:/wss: to it in CSP3):
 * an injected script would meet an empty policy. Other pages (the demo shop, which hosts the
 * widget) allow inline styles (the page's own <style>, the widget's shadow-root style) but no
 * inline script. Nobody may frame the inbox (clickjacking); the demo page may be framed.
 */
const INBOX_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

export function pagePolicy(file: string): string | undefined {
  if (path.extname(file).toLowerCase() !== '.html') return undefined;
  return path.basename(file).toLowerCase().startsWith('inbox') ? INBOX_CSP : PAGE_CSP;
}

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function cacheControl(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (CACHEABLE.has(ext)) return 'public, max-age=300';
  if (ext === '.html') return 'no-cache';
  return 'public, max-age=300';
}

/** The file under `root` a URL path names, or undefined when it would leave `root`. */
export function resolvePublic(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const rel = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = path.resolve(root, rel);
  return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

async function fileAt(file: string): Promise<{ file: string; size: number; mtime: Date } | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (st?.isFile()) return { file, size: st.size, mtime: st.mtime };
  return undefined;
}

/** Serves a GET/HEAD from `root`; returns false when there is no such file. */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const absRoot = path.resolve(root);
  const file = resolvePublic(absRoot, pathname);
  if (!file) return false;
  // `/inbox` → inbox.html: pages without the extension.
  const found = (await fileAt(file)) ?? (path.extname(file) === '' ? await fileAt(`${file}.html`) : undefined);
  if (!found) return false;

  const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtime.getTime() / 1000).toString(16)}"`;
  const csp = pagePolicy(found.file);
  const headers: Record<string, string> = {
    'content-type': contentType(found.file),
    'cache-control': cacheControl(found.file),
    etag,
    'last-modified': found.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
    ...(csp ? { 'content-security-policy': csp, 'referrer-policy': 'strict-origin-when-cross-origin' } : {}),
  };
  const inm = req.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': found.size });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  const stream = createReadStream(found.file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
  return true;
}
