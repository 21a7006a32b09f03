/**
 * The way back: the origin's answer walks the response filters of the request's phases in the
 * reverse order of the way in (Envoy's encoder filters; Pingora's response filters). The
 * upstream phase moves the bytes and calls these at each step of the exchange; what to add to
 * the head, what to store, what to answer instead is the filters' (context.ts, ResponseFilter).
 */
import type { Phase, RequestContext, ResponseFilter, ResponseHead } from './context.js';

/** The filters of `phases`, in the order the way back runs them. */
export function wayBackOf(phases: readonly Phase[]): readonly ResponseFilter[] {
  const filters: ResponseFilter[] = [];
  for (let i = phases.length - 1; i >= 0; i--) {
    const f = phases[i].response;
    if (f) filters.push(f);
  }
  return Object.freeze(filters);
}

/** The origin's head through every filter, until one answers the client itself. */
export function answerHead(ctx: RequestContext, status: number, raw: readonly (Buffer | string)[], headers: string[]): ResponseHead {
  const head: ResponseHead = { status, raw, headers, compression: undefined, hold: undefined, answered: false };
  for (const f of ctx.pipeline.wayBack) {
    f.head(ctx, head);
    if (head.answered) break;
  }
  return head;
}

/** A chunk of the body, as the client gets it. */
export function answerData(ctx: RequestContext, chunk: Buffer): void {
  for (const f of ctx.pipeline.wayBack) f.data?.(ctx, chunk);
}

/** The body ended whole. */
export function answerEnd(ctx: RequestContext): void {
  for (const f of ctx.pipeline.wayBack) f.end?.(ctx);
}

/** True when a filter needs the rest of the body though the client left. */
export function bodyNeeded(ctx: RequestContext): boolean {
  for (const f of ctx.pipeline.wayBack) if (f.needsBody?.(ctx)) return true;
  return false;
}

/** The exchange failed for good: true when a filter answered the client instead (the first that can; the rest are abandoned). */
export function answerFailure(ctx: RequestContext): boolean {
  let answered = false;
  for (const f of ctx.pipeline.wayBack) {
    if (answered) f.abandoned?.(ctx);
    else answered = f.failed?.(ctx) === true;
  }
  return answered;
}

/** Nobody is left to answer. */
export function abandonAnswer(ctx: RequestContext): void {
  for (const f of ctx.pipeline.wayBack) f.abandoned?.(ctx);
}
