/**
 * A Prometheus counter for the request path: prom-client hashes and validates the label object
 * on every inc (a few µs per call, measured at ~5% of a cache hit's CPU); this one adds into a
 * Map keyed by the label values and hands the totals to prom-client only when /metrics is read.
 */
import { Counter, type Registry } from 'prom-client';

export interface FastCounter<L extends string> {
  readonly counter: Counter<L>;
  inc(labels: Record<L, string>, value?: number): void;
  get: Counter<L>['get'];
}

export function fastCounter<L extends string>(cfg: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }): FastCounter<L> {
  const totals = new Map<string, { labels: Record<L, string>; value: number }>();
  const names = cfg.labelNames;
  const counter = new Counter<L>({
    ...cfg,
    collect() {
      this.reset();
      for (const t of totals.values()) this.inc(t.labels, t.value);
    },
  });
  return {
    counter,
    inc(labels, value = 1) {
      let key = '';
      for (let i = 0; i < names.length; i++) key += `${labels[names[i]]}\u0001`;
      const t = totals.get(key);
      if (t) t.value += value;
      else totals.set(key, { labels: { ...labels }, value });
    },
    get: () => counter.get(),
  };
}
