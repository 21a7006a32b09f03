import { describe, expect, it } from 'vitest';
import type { Phase, RequestContext, ResponseFilter } from './context.js';
import { abandonAnswer, answerData, answerEnd, answerFailure, answerHead, bodyNeeded, wayBackOf } from './way-back.js';
import { requestPipeline, upgradePipeline } from './phases.js';

/** A phase whose filter writes what it sees into `log`. */
function phase(name: string, log: string[], filter: Partial<ResponseFilter> = {}): Phase {
  return {
    name,
    run: () => false,
    response: {
      head: (_ctx, head) => {
        log.push(`head ${name}`);
        head.headers.push('x-seen', name);
      },
      data: (_ctx, chunk) => log.push(`data ${name} ${chunk}`),
      end: () => log.push(`end ${name}`),
      abandoned: () => log.push(`abandoned ${name}`),
      ...filter,
    },
  };
}

function ctxWith(phases: Phase[]): RequestContext {
  return { pipeline: { phases, wayBack: wayBackOf(phases) } } as unknown as RequestContext;
}

describe('the way back', () => {
  it('runs the filters in the reverse order of their phases, skipping phases without one', () => {
    const log: string[] = [];
    const ctx = ctxWith([phase('a', log), { name: 'plain', run: () => false }, phase('b', log), phase('c', log)]);
    const head = answerHead(ctx, 200, [], ['via', '1.1 pop']);
    answerData(ctx, Buffer.from('x'));
    answerEnd(ctx);
    expect(head.headers).toEqual(['via', '1.1 pop', 'x-seen', 'c', 'x-seen', 'b', 'x-seen', 'a']);
    expect(log).toEqual(['head c', 'head b', 'head a', 'data c x', 'data b x', 'data a x', 'end c', 'end b', 'end a']);
  });

  it('stops the head at the filter that answered the client itself', () => {
    const log: string[] = [];
    const answering = phase('b', log, {
      head: (_ctx, head) => {
        log.push('head b');
        head.answered = true;
      },
    });
    const head = answerHead(ctxWith([phase('a', log), answering, phase('c', log)]), 304, [], []);
    expect(head.answered).toBe(true);
    expect(log).toEqual(['head c', 'head b']);
  });

  it('lets the first filter that can answer a failure, and abandons the ones after it', () => {
    const log: string[] = [];
    const ctx = ctxWith([
      phase('a', log, { failed: () => (log.push('failed a'), true) }),
      phase('b', log, { failed: () => (log.push('failed b'), true) }),
      phase('c', log, { failed: () => (log.push('failed c'), false) }),
    ]);
    expect(answerFailure(ctx)).toBe(true);
    expect(log).toEqual(['failed c', 'failed b', 'abandoned a']);
    expect(answerFailure(ctxWith([phase('a', log)]))).toBe(false);
  });

  it('keeps reading the body for a filter that needs it, and tells every filter when nobody is left', () => {
    const log: string[] = [];
    const ctx = ctxWith([phase('a', log, { needsBody: () => true }), phase('b', log)]);
    expect(bodyNeeded(ctx)).toBe(true);
    expect(bodyNeeded(ctxWith([phase('b', log)]))).toBe(false);
    abandonAnswer(ctx);
    expect(log).toEqual(['abandoned b', 'abandoned a']);
  });

  it('is, for an ordinary request, balance (affinity) then compress then cache; for an upgrade, balance alone', () => {
    const names = (p: typeof requestPipeline) => p.phases.filter((x) => x.response).map((x) => x.name);
    expect(names(requestPipeline)).toEqual(['cache', 'compress', 'balance']);
    expect(requestPipeline.wayBack).toEqual(
      requestPipeline.phases
        .map((x) => x.response)
        .filter(Boolean)
        .reverse(),
    );
    expect(names(upgradePipeline)).toEqual(['balance']);
    expect(Object.isFrozen(requestPipeline.wayBack)).toBe(true);
  });
});
