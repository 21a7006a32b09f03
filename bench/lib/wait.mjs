// Wait until a server is up: `node wait.mjs tcp 127.0.0.1:18001 [seconds]`
// or `node wait.mjs http http://127.0.0.1:19090/readyz [seconds]` (waits for a 200).
// Exits 0 when ready, 1 on timeout or, given a PID, as soon as that process is gone.
//   node wait.mjs MODE TARGET [seconds=30] [pid]
import net from 'node:net';
import http from 'node:http';

const [mode, target, secs = '30', pid] = process.argv.slice(2);
const deadline = Date.now() + Number(secs) * 1000;

function tryTcp() {
  const [host, port] = target.split(/:(?=\d+$)/);
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tryHttp() {
  return new Promise((resolve) => {
    const req = http.get(target, { timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

function alive(p) {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
}

for (;;) {
  if (await (mode === 'http' ? tryHttp() : tryTcp())) process.exit(0);
  if (pid && !alive(Number(pid))) {
    console.error(`process ${pid} exited while waiting for ${target}`);
    process.exit(1);
  }
  if (Date.now() > deadline) {
    console.error(`timed out waiting for ${target}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
