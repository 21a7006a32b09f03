import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { observe } from './access-log.js';
import { createMetrics } from './metrics.js';
import type { RequestContext } from '../pipeline/context.js';

function run(overrides: Partial<RequestContext>, level = 'info') {
  const lines: string[] = [];
  const log = pino(
    { level, base: { pop: 'sin' } },
    {
      write: (s: string) => {
        lines.push(s);
      },
    },
  );
  const metrics = createMetrics(undefined, false);
  const ctx = {
    start: performance.now() - 3,
    status: 200,
    id: 'req-1',
    clientIp: '203.0.113.9',
    proto: 'h2',
    scheme: 'https',
    method: 'GET',
    host: 'chat.example.com',
    path: '/a?q="x"\n\u2028',
    lb: { hostname: 'chat.example.com' },
    origin: { id: 'eu/fra-1' },
    bytesOut: 1234,
    upstreamMs: 2.5,
    socket: undefined,
    error: undefined,
    snapshot: { config: { pop: { id: 'sin' }, log: { access: true } } },
    edge: { log, metrics },
    ...overrides,
  } as unknown as RequestContext;
  observe(ctx);
  return { lines, metrics };
}

describe('access log line', () => {
  it('is one valid JSON line with the request fields, escaping what needs it', () => {
    const { lines } = run({});
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const rec = JSON.parse(lines[0]);
    expect(rec).toMatchObject({
      level: 30,
      pop: 'sin',
      type: 'access',
      id: 'req-1',
      client: '203.0.113.9',
      proto: 'h2',
      scheme: 'https',
      method: 'GET',
      host: 'chat.example.com',
      path: '/a?q="x"\n\u2028',
      status: 200,
      origin: 'eu/fra-1',
      bytes: 1234,
      upstreamMs: 2.5,
      msg: 'access',
    });
    expect(rec.ms).toBeGreaterThan(0);
    expect(typeof rec.time).toBe('number');
  });
  it('logs a client that left as 499 with its error, and nothing below the log level', async () => {
    const { lines, metrics } = run({ status: 0, error: { code: 'client_closed' } as never, origin: undefined, upstreamMs: undefined });
    expect(JSON.parse(lines[0])).toMatchObject({ status: 499, error: 'client_closed' });
    expect(JSON.parse(lines[0]).origin).toBeUndefined();
    expect((await metrics.requests.get()).values[0]).toMatchObject({ value: 1, labels: { status_class: '4xx', origin: 'none' } });
    expect(run({}, 'warn').lines).toHaveLength(0);
  });
});
