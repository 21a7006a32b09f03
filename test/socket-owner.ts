/**
 * Which worker of a node carried a connection, seen from the origin: the process that owns the
 * other end of the TCP socket, looked up in /proc (Linux only, like the production target).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Which of `pids` holds the TCP socket 127.0.0.1:`localPort` → 127.0.0.1:`remotePort`. */
export function socketOwner(localPort: number, remotePort: number, pids: number[]): number | undefined {
  const hex = (port: number) => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const line = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === hex(localPort) && f[2] === hex(remotePort));
  if (!line) return undefined;
  const target = `socket:[${line[9]}]`;
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === target;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}
