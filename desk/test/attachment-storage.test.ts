/**
 * The attachment storage contract (attachments/storage.ts), run against every backend there is
 * (a local directory today), and the URLs open-storage.ts takes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/attachments/local-storage.js';
import { openAttachmentStorage } from '../src/attachments/open-storage.js';
import { type AttachmentStorage, TooLargeError } from '../src/attachments/storage.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'desk-files-'));
  dirs.push(d);
  return d;
}

async function bytesOf(r: Readable | undefined): Promise<Buffer | undefined> {
  if (!r) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `n` chunks of `size` bytes each. */
function chunks(n: number, size: number, fill = 0x61): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < n; i++) yield Buffer.alloc(size, fill);
    })(),
  );
}

function storageContract(name: string, open: () => { storage: AttachmentStorage; leftovers: () => string[] }): void {
  describe(`attachment storage contract: ${name}`, () => {
    it('writes, reads back and removes', async () => {
      const { storage } = open();
      expect(await storage.write('f_abcdef0123', chunks(3, 1000), 10_000)).toBe(3000);
      expect((await bytesOf(await storage.read('f_abcdef0123')))!.equals(Buffer.alloc(3000, 0x61))).toBe(true);
      await storage.remove('f_abcdef0123');
      expect(await storage.read('f_abcdef0123')).toBeUndefined();
      await storage.remove('f_abcdef0123'); // twice: harmless
    });

    it('refuses past maxBytes and keeps nothing', async () => {
      const { storage, leftovers } = open();
      await expect(storage.write('f_toolarge01', chunks(11, 1000), 10_000)).rejects.toBeInstanceOf(TooLargeError);
      expect(await storage.read('f_toolarge01')).toBeUndefined();
      expect(leftovers()).toEqual([]);
    });

    it('asks the check with the first 16 bytes, even from 1-byte chunks, and keeps nothing it refuses', async () => {
      const { storage, leftovers } = open();
      const heads: number[] = [];
      const src = Readable.from(
        (function* () {
          for (const b of Buffer.from('<html><script>alert(1)</script>')) yield Buffer.from([b]);
        })(),
      );
      await expect(
        storage.write('f_refused001', src, 10_000, (head) => {
          heads.push(head.length);
          throw new Error('not a PNG');
        }),
      ).rejects.toThrow('not a PNG');
      expect(heads).toEqual([16]);
      expect(await storage.read('f_refused001')).toBeUndefined();
      expect(leftovers()).toEqual([]);
      // A file shorter than 16 bytes is checked whole.
      const seen: string[] = [];
      expect(await storage.write('f_shortfile1', Readable.from([Buffer.from('hi')]), 100, (h) => seen.push(Buffer.from(h).toString()))).toBe(2);
      expect(seen).toEqual(['hi']);
    });

    it('a source that fails midway leaves nothing', async () => {
      const { storage, leftovers } = open();
      const src = new Readable({ read() {} });
      src.push(Buffer.alloc(5000));
      const writing = storage.write('f_brokenup01', src, 100_000);
      setTimeout(() => src.destroy(new Error('client went away')), 20);
      await expect(writing).rejects.toThrow('client went away');
      expect(await storage.read('f_brokenup01')).toBeUndefined();
      expect(leftovers()).toEqual([]);
    });

    it('refuses keys that are not ids', async () => {
      const { storage } = open();
      await expect(storage.write('../escape', chunks(1, 1), 10)).rejects.toThrow(/bad attachment key/);
      await expect(storage.read('a/b')).rejects.toThrow(/bad attachment key/);
    });
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

storageContract('local directory', () => {
  const dir = tempDir();
  return { storage: new LocalStorage(dir), leftovers: () => walk(dir) };
});

describe('openAttachmentStorage', () => {
  it('takes a directory path or a file: URL', async () => {
    const dir = tempDir();
    for (const where of [dir, pathToFileURL(dir).href]) {
      const storage = openAttachmentStorage(where);
      expect(storage).toBeInstanceOf(LocalStorage);
      expect((storage as LocalStorage).dir).toBe(dir);
    }
  });

  it('names S3 as not built yet and refuses unknown schemes', () => {
    expect(() => openAttachmentStorage('s3://bucket/prefix')).toThrow(/S3-compatible storage is not built yet/);
    expect(() => openAttachmentStorage('ftp://files.example/x')).toThrow(/unknown scheme/);
  });
});
