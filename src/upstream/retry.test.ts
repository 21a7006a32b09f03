import { describe, expect, it } from 'vitest';
import { EdgeError } from '../pipeline/errors.js';
import { RetryBudget, isConnectPhase, mayRetry } from './retry.js';

const err = (code: string) => new EdgeError(502, code, 'origin', 'x');

describe('mayRetry', () => {
  it('retries connect-phase failures whatever the method', () => {
    for (const code of ['origin_refused', 'origin_connect_timeout', 'origin_tls', 'origin_dns']) {
      expect(mayRetry(err(code), 'POST', false), code).toBe(true);
    }
  });
  it('retries a reset only for idempotent methods', () => {
    expect(mayRetry(err('origin_reset'), 'GET', false)).toBe(true);
    expect(mayRetry(err('origin_reset'), 'PUT', false)).toBe(true);
    expect(mayRetry(err('origin_reset'), 'POST', false)).toBe(false);
    expect(mayRetry(err('origin_reset'), 'PATCH', false)).toBe(false);
  });
  it('never retries once the body was read, nor timeouts or bad responses', () => {
    expect(mayRetry(err('origin_refused'), 'POST', true)).toBe(false);
    expect(mayRetry(err('origin_timeout'), 'GET', false)).toBe(false);
    expect(mayRetry(err('origin_bad_response'), 'GET', false)).toBe(false);
  });
});

describe('RetryBudget', () => {
  const policy = { retries: 2, budgetRatio: 0.2, budgetMinimum: 3, deadlineMs: 1000 };
  it('allows the minimum even when idle', () => {
    const b = new RetryBudget();
    b.retrying = 2;
    expect(b.allows(policy)).toBe(true);
    b.retrying = 3;
    expect(b.allows(policy)).toBe(false);
  });
  it('scales with requests in flight', () => {
    const b = new RetryBudget();
    b.active = 100;
    b.retrying = 19;
    expect(b.allows(policy)).toBe(true);
    b.retrying = 20;
    expect(b.allows(policy)).toBe(false);
  });
});

describe('isConnectPhase', () => {
  it('is true only when no origin did any work (outside the budget)', () => {
    expect(isConnectPhase(err('origin_refused'))).toBe(true);
    expect(isConnectPhase(err('origin_connect_timeout'))).toBe(true);
    expect(isConnectPhase(err('origin_reset'))).toBe(false);
    expect(isConnectPhase(err('origin_timeout'))).toBe(false);
  });
});
