// Where a request's CPU goes: the self time of each function in the .cpuprofile files of a
// directory (bench/ab-cpu.sh PROF=1 writes them: one per process), per request served, largest
// first. A readable stand-in for a flame graph that diffs well in git.
//   node bench/profile-top.mjs bench/.work/ab-main [rows=40] > bench/profiles/NAME.txt
import fs from 'node:fs';

const dir = process.argv[2];
const rows = Number(process.argv[3] ?? 40);
const wrk = fs.readFileSync(`${dir}/wrk.txt`, 'utf8');
const requests = Number(/(\d+) requests in/.exec(wrk)[1]);
const self = new Map();
let total = 0;
for (const f of fs.readdirSync(`${dir}/prof`)) {
  const p = JSON.parse(fs.readFileSync(`${dir}/prof/${f}`, 'utf8'));
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const cf = nodes.get(p.samples[i]).callFrame;
    if (cf.functionName === '(idle)') continue;
    const t = p.timeDeltas[i] ?? 0;
    const where = cf.url.replace(/.*\/(dist|node_modules)\//, '$1/');
    const key = `${where ? `${where} ` : ''}${cf.functionName || '(anonymous)'}${cf.lineNumber >= 0 ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + t);
    total += t;
  }
}
console.log(`${requests} requests; ${(total / requests).toFixed(1)} us of sampled CPU per request (all processes, idle excluded)`);
console.log('  us/req  share  function (self time)');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
  console.log(`${(v / requests).toFixed(2).padStart(8)} ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
