/**
 * Edge compression: which coding a client accepts (RFC 9110 §12.5.3), whether an answer may and
 * should be compressed (RFC 9110 §7.7, RFC 9111 §5.2.2.6), the zlib streams that do it, and the
 * header changes a compressed representation needs (Vary, a weak ETag). Everything but
 * `createEncoder` is pure; the handler only pipes bytes through the encoder.
 */
import zlib from 'node:zlib';
import { parseCacheControl } from './policy/cache-control.js';
import { parseEntityTag } from './policy/entity-tag.js';
import { splitList } from './policy/field-list.js';

/** The content codings the edge produces. */
export type Encoding = 'br' | 'gzip';

/** A compressing stream: a Transform with zlib's `flush()` and byte counters. */
export type Encoder = zlib.BrotliCompress | zlib.Gzip;

/** Bodies shorter than this are sent as they are: the framing costs more than it saves. */
export const DEFAULT_MIN_SIZE = 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** qvalue (RFC 9110 §12.4.2): 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The coding to answer with for an Accept-Encoding value (RFC 9110 §12.5.3): the higher weight of
 * br and gzip, br on a tie (smaller at the same cost to the client). `q=0` excludes a coding; `*`
 * weighs every coding the field does not name; `x-gzip` counts as gzip (§8.4.1.3) unless gzip is
 * named itself. A coding named twice keeps its first weight. Malformed members (a coding that is
 * not a token, an unreadable q) are skipped. Undefined when neither is acceptable, when the field
 * is empty (the client wants no coding) or absent (a client that did not ask gets identity, which
 * every client understands, although §12.5.3 would allow any coding).
 */
export function negotiateEncoding(acceptEncoding: string | string[] | undefined): Encoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const text = Array.isArray(acceptEncoding) ? acceptEncoding.join(', ') : acceptEncoding;
  const weights = new Map<string, number>();
  for (const member of splitList(text)) {
    const parsed = parseCoding(member);
    if (parsed && !weights.has(parsed.coding)) weights.set(parsed.coding, parsed.q);
  }
  const star = weights.get('*');
  const weight = (coding: string, alias?: string): number => weights.get(coding) ?? (alias === undefined ? undefined : weights.get(alias)) ?? star ?? 0;
  const br = weight('br');
  const gzip = weight('gzip', 'x-gzip');
  if (br <= 0 && gzip <= 0) return undefined;
  return br >= gzip ? 'br' : 'gzip';
}

/** `coding *( OWS ";" OWS parameter )` with a lowercase coding and its weight (1 without q). */
function parseCoding(member: string): { coding: string; q: number } | undefined {
  const [head, ...params] = member.split(';');
  const coding = head.trim().toLowerCase();
  if (!TOKEN.test(coding)) return undefined;
  let q = 1;
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
    // Accept-Encoding defines only the weight; other parameters carry nothing we use.
    if (name !== 'q') continue;
    const value = eq === -1 ? '' : param.slice(eq + 1).trim();
    if (!QVALUE.test(value)) return undefined;
    q = Number(value);
  }
  return { coding, q };
}

/** Structured-syntax suffixes (RFC 6838 §4.2.8) that are text underneath. */
const TEXT_SUFFIXES = ['+json', '+xml'];

/** Media types worth compressing outside text/* and the suffixes (aliases origins still send included). */
const COMPRESSIBLE = new Set([
  'application/json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  'application/wasm',
  'image/svg+xml',
  'font/ttf',
  'font/otf',
  'application/x-font-ttf',
  'application/x-font-otf',
  'application/vnd.ms-fontobject',
]);

/** The value the cache keys Accept-Encoding by: the encoding this edge would choose. */
export function acceptEncodingKey(value: string | string[] | undefined): string {
  return negotiateEncoding(value) ?? 'identity';
}

/**
 * Whether a Content-Type names text-like content that compresses well. Parameters are ignored,
 * names are case-insensitive. Formats that are compressed already (images other than SVG, audio,
 * video, zip, woff/woff2) are not, since a second pass costs CPU and gains nothing.
 * `text/event-stream` is left out: its events are tiny and must reach the client one by one, so
 * compression would trade latency for almost no saving.
 */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0 || slash === type.length - 1) return false;
  if (COMPRESSIBLE.has(type)) return true;
  if (type === 'text/event-stream') return false;
  if (type.startsWith('text/')) return true;
  const subtype = type.slice(slash + 1);
  return TEXT_SUFFIXES.some((suffix) => subtype.endsWith(suffix) && subtype.length > suffix.length);
}

/** What `shouldCompress` needs to know about an answer. Header values as received. */
export interface CompressionInput {
  status: number;
  method: string;
  contentType?: string;
  contentEncoding?: string;
  contentLength?: number;
  cacheControl?: string;
  /** Smallest body worth compressing, bytes. Default `DEFAULT_MIN_SIZE`. */
  minSize?: number;
}

/**
 * Whether the edge may compress this answer (the client's Accept-Encoding is a separate question,
 * `negotiateEncoding`):
 * - a 200 or 203 to GET: a complete representation. 206 is a byte range of the identity form,
 *   304 and HEAD have no body; other statuses are rarely worth it and are left alone.
 * - a compressible Content-Type;
 * - no Content-Encoding yet (or only `identity`): never encode twice;
 * - no `no-transform` in Cache-Control: a proxy must not transform the content then (RFC 9110 §7.7,
 *   RFC 9111 §5.2.2.6);
 * - a length that is unknown (streamed) or at least `minSize`.
 */
export function shouldCompress(input: CompressionInput): boolean {
  if (input.status !== 200 && input.status !== 203) return false;
  // Methods are case-sensitive (RFC 9110 §9.1).
  if (input.method !== 'GET') return false;
  if (!isCompressible(input.contentType)) return false;
  if (input.contentEncoding !== undefined) {
    const codings = splitList(input.contentEncoding).map((c) => c.toLowerCase());
    if (codings.some((c) => c !== 'identity')) return false;
  }
  if (input.cacheControl !== undefined && parseCacheControl(input.cacheControl).noTransform) return false;
  const length = input.contentLength;
  if (length !== undefined && Number.isFinite(length) && length < (input.minSize ?? DEFAULT_MIN_SIZE)) return false;
  return true;
}

/**
 * A compressing stream for `encoding`. Brotli runs at quality 5 in text mode (close to gzip's
 * speed, noticeably smaller output; 11 is for precompressed assets, not per request); `sizeHint`
 * (the body length, when known) lets it size its tables. gzip runs at level 6, zlib's default
 * balance.
 *
 * Both flush on every write (Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH): each chunk the origin sends
 * leaves the encoder as soon as it is written instead of waiting for zlib's internal buffers to
 * fill, so streamed answers (long polls, progressive HTML, chunked JSON) reach the client as they
 * are produced. The window survives a flush, so later chunks still refer back to earlier ones; the
 * cost is a few bytes per flush and a fresh block per chunk, small with the 16–64 KiB chunks a
 * proxied body arrives in. `end()` finishes the stream as usual.
 */
export function createEncoder(encoding: Encoding, sizeHint?: number): Encoder {
  if (encoding === 'br') {
    const params: Record<number, number> = {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    };
    if (sizeHint !== undefined && Number.isSafeInteger(sizeHint) && sizeHint > 0) {
      // The parameter is a 32-bit value; larger bodies gain nothing from a more exact hint.
      params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = Math.min(sizeHint, 0xffff_ffff);
    }
    return zlib.createBrotliCompress({ params, flush: zlib.constants.BROTLI_OPERATION_FLUSH });
  }
  return zlib.createGzip({ level: 6, flush: zlib.constants.Z_SYNC_FLUSH });
}

/**
 * A Vary value that includes Accept-Encoding, so caches downstream key the compressed and the
 * identity forms apart (RFC 9110 §12.5.5). Unchanged when it is already named (any case) or when
 * Vary is `*`, which varies on everything already.
 */
export function varyWithAcceptEncoding(vary: string | undefined): string {
  const members = vary === undefined ? [] : splitList(vary);
  if (members.some((m) => m === '*' || m.toLowerCase() === 'accept-encoding')) return vary as string;
  return [...members, 'Accept-Encoding'].join(', ');
}

/**
 * The ETag of a compressed representation. Its bytes differ from the identity form's, so a strong
 * validator no longer holds (RFC 9110 §8.8.3); the weak form still says "semantically the same",
 * which keeps conditional requests working. A weak tag stays weak (surrounding spaces trimmed). A
 * malformed tag is dropped: it cannot be weakened, and passing it on would claim byte identity.
 */
export function weakEtag(etag: string | undefined): string | undefined {
  const tag = parseEntityTag(etag);
  if (!tag) return undefined;
  return `W/${tag.opaque}`;
}
