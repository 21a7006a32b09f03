/**
 * Origin steering: how one origin is chosen inside a pool. Selection only reads: who exists
 * comes from the config snapshot, who is healthy from health (a later module); a policy picks.
 */
import type { OriginRuntime } from '../../upstream/origin.js';

export interface OriginSelector {
  /** An origin among `candidates` (never empty), or undefined if none can take traffic. */
  pick(candidates: readonly OriginRuntime[]): OriginRuntime | undefined;
}

export type OriginSelectorFactory = (origins: readonly OriginRuntime[]) => OriginSelector;
