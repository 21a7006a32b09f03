// Node's own ceiling for a cache hit: a bare node:http server in 2 processes (node:cluster)
// answering every request with the same 1 KiB Buffer and the header fields an Outpost hit
// carries, no pipeline, no cache, no log. Measured like bench/ab-cpu.sh: wrk -t1 -c64 after a
// warm-up, CPU of the process tree from /proc per request.
//   node bench/ceiling-http.mjs [seconds=10] [port=18280]
import cluster from 'node:cluster';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const seconds = Number(process.argv[2] ?? 10);
const port = Number(process.argv[3] ?? 18280);

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
  await new Promise((r) => setTimeout(r, 1000));
  const cpu = () => {
    let ticks = 0;
    for (const pid of [process.pid, ...Object.values(cluster.workers).map((w) => w.process.pid)]) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks;
  };
  // Asynchronously: the primary hands the connections to the workers.
  const wrk = promisify(execFile);
  await wrk('wrk', ['-t1', '-c64', '-d2s', `http://127.0.0.1:${port}/1k`]);
  const t0 = cpu();
  const { stdout: out } = await wrk('wrk', ['-t1', '-c64', `-d${seconds}s`, `http://127.0.0.1:${port}/1k`]);
  const t1 = cpu();
  const n = Number(/(\d+) requests in/.exec(out)[1]);
  console.log(`bare node:http, 2 processes, /1k: ${n} requests, ${/Requests\/sec:\s+([\d.]+)/.exec(out)[1]} req/s, CPU ${(((t1 - t0) * 10_000) / n).toFixed(1)} us/req`);
  for (const w of Object.values(cluster.workers)) w.kill();
} else {
  const body = Buffer.alloc(1024, 'a');
  http
    .createServer((_req, res) => {
      res.writeHead(200, [
        'content-type',
        'text/plain',
        'cache-control',
        'public, max-age=3600',
        'date',
        new Date().toUTCString(),
        'vary',
        'Accept-Encoding',
        'age',
        '1',
        'cache-status',
        'outpost; hit; ttl=3599',
        'x-request-id',
        '0b9c6f3e-6a43-4d0e-9c57-1f0e5c0c2f55',
        'via',
        '1.1 bench',
        'content-length',
        '1024',
      ]);
      res.end(body);
    })
    .listen(port, '127.0.0.1');
}
