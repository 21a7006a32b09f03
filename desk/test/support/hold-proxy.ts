/** A TCP proxy on 127.0.0.1 that can hold what one side sends (`hold`) until `release`: a core that has not answered yet, deterministically. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HoldProxy {
  port: number;
  /** Data towards the target waits from now on. */
  hold(): void;
  /** Sends what waited, and lets data through again. */
  release(): void;
  close(): Promise<void>;
}

export async function holdProxy(targetPort: number): Promise<HoldProxy> {
  let held = false;
  const waiting: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const target = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => (held ? waiting.push(() => target.write(chunk)) : target.write(chunk)));
    target.on('data', (chunk) => client.write(chunk));
    client.on('close', () => target.destroy());
    target.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hold: () => void (held = true),
    release() {
      held = false;
      for (const send of waiting.splice(0)) send();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
