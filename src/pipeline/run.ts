/**
 * The runner: a pipeline is a list of phases and its way back (pipeline/way-back.ts); a request
 * walks the phases until one answers. The lists themselves are in phases.ts.
 */
import type { Phase, Pipeline, RequestContext } from './context.js';
import { sendError } from './error-page.js';
import { EdgeError } from './errors.js';
import { wayBackOf } from './way-back.js';

/**
 * A frozen pipeline of `phases`. `refresh`: the phases a background refresh of this kind of
 * request walks, and the phases whose filters its answer comes back through.
 */
export function pipeline(phases: Phase[], refresh?: { phases: Phase[]; wayBack: Phase[] }): Pipeline {
  return Object.freeze({
    phases: Object.freeze(phases),
    wayBack: wayBackOf(phases),
    refresh: refresh && Object.freeze({ phases: Object.freeze(refresh.phases), wayBack: wayBackOf(refresh.wayBack) }),
  });
}

/**
 * Walks the pipeline's phases until one answers; the upstream phase takes the answer back through
 * its filters. A phase that throws is an internal error: the client gets 500 and the process goes on.
 */
export function runPhases(ctx: RequestContext, p: Pipeline): void {
  ctx.pipeline = p;
  const phases = p.phases;
  let i = 0;
  const next = (): void => {
    try {
      while (i < phases.length) {
        const r = phases[i++].run(ctx);
        if (r === true) return;
        if (r !== false) {
          r.then((answered) => {
            if (!answered) next();
          }, fail);
          return;
        }
      }
    } catch (err) {
      fail(err);
    }
  };
  const fail = (err: unknown): void => {
    ctx.edge.log.error({ err, requestId: ctx.id }, 'phase failed');
    sendError(ctx, err instanceof EdgeError ? err : new EdgeError(500, 'internal', 'internal', 'The edge failed to handle this request.', false, { cause: err }));
  };
  next();
}
