/**
 * The cache policy: pure RFC 9111 logic (and its neighbours RFC 9110, 5861, 9213, 8941). The fill
 * decision runs once per stored response; a hit only compares the numbers it recorded.
 */
export { parseCacheControl, type Directives } from './cache-control.js';
export { parseCdnCacheControl } from './cdn-cache-control.js';
export { parseDeltaSeconds } from './directives.js';
export { parseHttpDate } from './http-date.js';
export { freshnessLifetime, heuristicLifetime, initialAge, currentAge, parseAge } from './freshness.js';
export { storedHeaders } from './stored-headers.js';
export {
  decideFill,
  isStorableMethod,
  isStorableStatus,
  isUnderstoodStatus,
  forbidsStorage,
  authorizationAllows,
  governingDirectives,
  varyNames,
  cacheTags,
  hasValidator,
  edgeTtlApplies,
  edgeTtlOverrides,
  fillLifetime,
  type FillInput,
  type FillDecision,
} from './storable.js';
export { entryState, type EntryState } from './lookup.js';
export { secondaryKey, varyMatches } from './vary.js';
export { revalidationHeaders, mergeNotModified, notModifiedMatches } from './validation.js';
export { evaluatePreconditions } from './preconditions.js';
export { selectRange, ifRangeMatches, type RangeSelection } from './range.js';
export { invalidatedUrls, isUnsafeMethod } from './invalidation.js';
export { clientCacheControl } from './browser-ttl.js';
