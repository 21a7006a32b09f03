import { describe, expect, it } from 'vitest';
import { isAutoReply } from './auto-reply.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('isAutoReply', () => {
  it('is false for a person’s reply, and for Auto-Submitted: no', () => {
    expect(isAutoReply(headers({ from: 'eve@example.com', 'return-path': '<eve@example.com>' }))).toBe(false);
    expect(isAutoReply(headers({ 'auto-submitted': 'No' }))).toBe(false);
    expect(isAutoReply(headers({ precedence: 'first-class' }))).toBe(false);
    expect(isAutoReply(headers({ 'x-auto-response-suppress': 'RN, NRN' }))).toBe(false);
  });

  it('is true for Auto-Submitted other than no (RFC 3834)', () => {
    expect(isAutoReply(headers({ 'auto-submitted': 'auto-replied' }))).toBe(true);
    expect(isAutoReply(headers({ 'auto-submitted': 'auto-generated; owner-email="x@y"' }))).toBe(true);
  });

  it('is true for X-Autoreply / X-Autorespond, list headers and bulk precedence', () => {
    expect(isAutoReply(headers({ 'x-autoreply': 'yes' }))).toBe(true);
    expect(isAutoReply(headers({ 'x-autorespond': 'Out of office' }))).toBe(true);
    expect(isAutoReply(headers({ 'list-id': '<news.example.com>' }))).toBe(true);
    for (const p of ['bulk', 'junk', 'list', 'auto_reply', ' Bulk ']) expect(isAutoReply(headers({ precedence: p }))).toBe(true);
  });

  it('is true for Exchange’s suppress header and the null Return-Path of bounces', () => {
    expect(isAutoReply(headers({ 'x-auto-response-suppress': 'All' }))).toBe(true);
    expect(isAutoReply(headers({ 'x-auto-response-suppress': 'DR, OOF' }))).toBe(true);
    expect(isAutoReply(headers({ 'return-path': '<>' }))).toBe(true);
  });
});
