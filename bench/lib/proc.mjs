// Helpers that read /proc: the process tree of a server, its CPU time and its RSS.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}

/** Parse /proc/PID/stat; null if the process is gone. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces: split after its closing parenthesis.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    cutime: Number(rest[13]),
    cstime: Number(rest[14]),
  };
}

/** pid and all its descendants (children, grandchildren, ...). */
export function processTree(rootPid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const todo = [Number(rootPid)];
  while (todo.length) {
    const pid = todo.pop();
    out.push(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/**
 * CPU seconds used so far by the processes rooted at the given pids: utime + stime of every
 * process in each tree (a process's stat covers all its threads), plus cutime + cstime so that
 * children which exit and are reaped during a run still count.
 */
export function treeCpuSeconds(rootPids) {
  let ticks = 0;
  for (const root of rootPids) {
    for (const pid of processTree(root)) {
      const st = readStat(pid);
      if (st) ticks += st.utime + st.stime + st.cutime + st.cstime;
    }
  }
  return ticks / clkTck;
}

/** Resident set size (VmRSS) of one process in bytes; 0 if it is gone. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Summed resident set size, in bytes, of the processes rooted at the given pids. */
export function treeRssBytes(rootPids) {
  let bytes = 0;
  for (const root of rootPids) for (const pid of processTree(root)) bytes += rssBytes(pid);
  return bytes;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Percentile (0..100) of an array of numbers, nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// CLI: `node proc.mjs tree PID` prints PID and its descendants, space separated.
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const [cmd, pid] = process.argv.slice(2);
  if (cmd === 'tree') console.log(processTree(Number(pid)).join(' '));
  else {
    console.error('usage: node proc.mjs tree PID');
    process.exit(2);
  }
}
