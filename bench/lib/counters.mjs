// A proxy's own view of one backend server, read from its counters, for the failover bench:
// how much traffic the proxy has sent to the server so far (a number that only grows) and
// whether the proxy's health check has it up.
//
//   outpostCounters(adminUrl, originLabel)  Outpost: GET <admin>/metrics, series with origin="<pool>/<origin>"
//   haproxyCounters(socketPath, backend, server)  HAProxy: `show stat` on the stats socket
//
// Each returns an async function that resolves to { traffic, up } (up: true, false, or null
// when not known), or null when the proxy did not answer.
import http from 'node:http';
import net from 'node:net';

/** Outpost: the sum of outpost_requests_total, outpost_upstream_errors_total and
 *  outpost_upstream_retries_total for the origin (every exchange with it, failed or not, a
 *  retry away from it included), and outpost_origin_healthy (1 up, 0 down, -1 unknown). */
export function outpostCounters(adminUrl, originLabel) {
  const families = new Set(['outpost_requests_total', 'outpost_upstream_errors_total', 'outpost_upstream_retries_total']);
  const needle = `origin="${originLabel}"`;
  return async () => {
    const text = await get(`${adminUrl}/metrics`);
    if (text === null) return null;
    let traffic = 0;
    let up = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !line.includes(needle)) continue;
      const name = line.slice(0, line.indexOf('{'));
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (families.has(name)) traffic += value;
      else if (name === 'outpost_origin_healthy') up = value === 1 ? true : value === 0 ? false : null;
    }
    return { traffic, up };
  };
}

/** HAProxy: stot + econ + eresp + wretr + wredis of the server (sessions sent to it, connection
 *  and response errors, retries and redispatches; health checks count in none of them), and its
 *  status (UP..., DOWN...). */
export function haproxyCounters(socketPath, backend, server) {
  return async () => {
    const text = await unixCommand(socketPath, 'show stat\n');
    if (text === null) return null;
    const lines = text.split('\n');
    const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
    const col = (name) => header.indexOf(name);
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      if (f[col('pxname')] !== backend || f[col('svname')] !== server) continue;
      let traffic = 0;
      for (const k of ['stot', 'econ', 'eresp', 'wretr', 'wredis']) traffic += Number(f[col(k)]) || 0;
      const status = f[col('status')] ?? '';
      return { traffic, up: status.startsWith('UP') ? true : status.startsWith('DOWN') ? false : null };
    }
    return null;
  };
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      res.on('error', () => resolve(null));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(null));
  });
}

function unixCommand(path, command) {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    let out = '';
    s.setEncoding('utf8');
    s.setTimeout(2000, () => s.destroy());
    s.once('connect', () => s.write(command));
    s.on('data', (c) => (out += c));
    s.once('end', () => resolve(out));
    s.once('error', () => resolve(null));
    s.once('close', () => resolve(out || null));
  });
}

/**
 * Samples `read` every `intervalMs` until stopped. Each sample is { t (epoch ms, the middle of the
 * read), traffic, up }. `stop()` resolves to the samples.
 */
export function sampleCounters(read, intervalMs, now) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = now();
      const v = await read().catch(() => null);
      const t1 = now();
      if (v) samples.push({ t: (t0 + t1) / 2, traffic: v.traffic, up: v.up });
      const wait = intervalMs - (now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}
