#!/usr/bin/env node
/**
 * A health probe of an Outpost node's admin listener, for process managers that have no HTTP
 * client of their own (node:20-slim ships no curl):
 *
 *   node probe.mjs URL              one GET: exit 0 on a 2xx answer, 1 otherwise (a container HEALTHCHECK)
 *   node probe.mjs URL --wait SECS  retry every 250 ms until a 2xx or SECS pass (systemd ExecStartPost)
 *
 * URL is the admin address of the node's config (listen.admin), e.g. http://127.0.0.1:9090/readyz.
 */
const [url, flag, secs] = process.argv.slice(2);
if (!url || (flag !== undefined && (flag !== '--wait' || !(Number(secs) >= 0)))) {
  process.stderr.write('usage: probe.mjs URL [--wait SECONDS]\n');
  process.exit(2);
}
const deadline = Date.now() + (flag ? Number(secs) * 1000 : 0);

async function once() {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok ? '' : `${res.status}`;
  } catch (err) {
    return err.cause?.code ?? err.message;
  }
}

for (;;) {
  const failure = await once();
  if (!failure) process.exit(0);
  if (Date.now() >= deadline) {
    process.stderr.write(`outpost probe: ${url}: ${failure}\n`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
