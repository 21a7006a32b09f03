/** `node desk/dist/main.js` as a deployment runs it, for tests that kill nodes for real. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

export interface DeskProcess {
  proc: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  exit: Promise<number | null>;
}

/**
 * Starts a node with `args` (after main.js); resolves once it logs `desk ready` (a core node) or
 * `regional desk ready`, fails with its output if it exits or hangs. `env` is added to this
 * process's environment (DESK_REGIONAL_SECRET).
 */
export async function spawnDesk(nodeId: string, args: string[], env: Record<string, string> = {}): Promise<DeskProcess> {
  const proc = spawn(process.execPath, ['desk/dist/main.js', '--port', '0', '--node', nodeId, ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const base = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      out += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if ((rec.msg === 'desk ready' || rec.msg === 'regional desk ready') && rec.url) resolve(rec.url.replace(/\/$/, ''));
        } catch {
          // not a log line
        }
      }
    });
    void exit.then((code) => reject(new Error(`${nodeId} exited (${code}): ${out}`)));
    setTimeout(() => reject(new Error(`${nodeId} not ready: ${out}`)), 15_000).unref();
  }).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
  return { proc, base, exit };
}
