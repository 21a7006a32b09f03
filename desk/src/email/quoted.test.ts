import { describe, expect, it } from 'vitest';
import { stripQuoted } from './quoted.js';

describe('stripQuoted', () => {
  it('cuts at a Gmail attribution and drops the quote under it', () => {
    expect(stripQuoted('Thanks, that works!\n\nOn Tue, 3 Nov 2026 at 10:00, Ada <reply+abc@desk.example> wrote:\n> Try restarting it.\n> Ada')).toBe('Thanks, that works!');
  });

  it('cuts at an attribution wrapped over two lines', () => {
    expect(stripQuoted('Yes please.\n\nOn Tue, 3 Nov 2026 at 10:00, Acme Shop <reply+abc@desk.example>\nwrote:\n> Shall I?')).toBe('Yes please.');
  });

  it('drops ">" lines wherever they are, keeping interleaved answers', () => {
    expect(stripQuoted('> Which size?\nM\n> Which colour?\nBlue')).toBe('M\nBlue');
  });

  it('cuts at the signature separator', () => {
    expect(stripQuoted('See you.\n-- \nEve Example\nCEO')).toBe('See you.');
  });

  it('cuts at Outlook blocks, with or without the separator line', () => {
    expect(stripQuoted('Got it.\r\n\r\n-----Original Message-----\r\nFrom: Acme\r\nSent: Monday\r\n\r\nOld text')).toBe('Got it.');
    expect(stripQuoted('Got it.\n\nFrom: Acme Shop <reply+abc@desk.example>\nSent: Monday, 2 Nov 2026 10:00\nTo: Eve\nOld text')).toBe('Got it.');
    expect(stripQuoted('Got it.\n________________________________\nFrom: Acme')).toBe('Got it.');
  });

  it('keeps "From:" in prose, and a German attribution is cut too', () => {
    expect(stripQuoted('From: my office, I cannot open it.')).toBe('From: my office, I cannot open it.');
    expect(stripQuoted('Danke!\n\nAm 3. Nov. 2026 schrieb Ada <a@b.c>:\n> Hallo')).toBe('Danke!');
  });

  it('keeps the whole text when cutting would leave nothing', () => {
    expect(stripQuoted('> only a quote')).toBe('> only a quote');
  });
});
