/** What the challenge endpoint needs of the shield's state, per challenge config (shield-state.ts makes it). */
import { createHmac } from 'node:crypto';
import type { SecurityConfig } from '../../config/security-schema.js';
import type { MemoryReplayGuard } from './token.js';

export interface ChallengeRuntime {
  /** The HMAC key of tokens and clearances (config secret, or derived from the node secret). */
  key: string;
  config: SecurityConfig['challenge'];
  /** Single use within this worker, checked first. */
  guard: MemoryReplayGuard;
  /** Single use across the node's workers (the supervisor), when there is one: resolves false for a nonce already used. */
  claimNode: ((nonce: string, expiresAt: number) => Promise<boolean>) | undefined;
}

/** The challenge key: the configured secret, else one derived from the node secret every worker shares. */
export function challengeKey(config: SecurityConfig['challenge'], nodeSecret: string): string {
  return config.secret ?? createHmac('sha256', nodeSecret).update('outpost/challenge-key').digest('base64url');
}
