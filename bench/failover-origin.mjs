#!/usr/bin/env node
// One demo origin (dist/demo/origin.js: GET /api/info names it, /healthz, /ws echo that first
// sends {"hello": name}) as its own process, for the failover bench. Prints
// `ready <epoch ms> <url>` once it listens.
//   node bench/failover-origin.mjs NAME PORT
import { startDemoOrigin } from '../dist/demo/origin.js';

const [name, port] = process.argv.slice(2);
const origin = await startDemoOrigin({ name, region: 'eu-west', port: Number(port) });
process.stdout.write(`ready ${(performance.timeOrigin + performance.now()).toFixed(3)} ${origin.url}\n`);
const stop = () => void origin.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
