/**
 * The world simulation's report: a table per client region (time to chat-ready, first-message
 * RTT, message RTT p50/p99, for each setup, with the ratio to direct and the physical floor the
 * world imposes), and an SVG bar chart of the average time to chat-ready by region, before (direct)
 * and after (through the PoP).
 *
 * Floors, in round trips of the path each step crosses (TLS 1.3: one RTT for its handshake):
 *   direct — chat-ready: 8 × (last mile + core RTT): TCP, TLS, page, widget, then TCP, TLS,
 *            Upgrade and hello for the socket; a message: 1 × (last mile + core RTT).
 *   PoP    — chat-ready: 8 × last mile + 4 × core RTT: the page is revalidated at the core (1),
 *            the widget comes from the PoP's cache (0), the socket needs a new connection to the
 *            core (TCP + Upgrade: 2) and the hello reads the core (1); a message: last mile + core RTT.
 */

const SETUPS = { direct: '(a) direct to the core', pop: '(b) through the local PoP' };

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

export function floors(setup, lastMile, toCore) {
  const far = lastMile + toCore;
  if (setup === 'direct') return { chatReady: 8 * far, message: far };
  return { chatReady: 8 * lastMile + 4 * toCore, message: lastMile + toCore };
}

function summarize(r) {
  const messages = r.runs.flatMap((x) => x.messages);
  return {
    chatReady: mean(r.runs.map((x) => x.chatReady)),
    firstMessage: mean(r.runs.map((x) => x.firstMessage)),
    p50: quantile(messages, 0.5),
    p99: quantile(messages, 0.99),
    widgetCache: r.runs.map((x) => x.widgetCache).find(Boolean) ?? '',
    floor: floors(r.setup, r.lastMile, r.toCore),
  };
}

export function renderReport({ world, results, browser = [], runs, messages, date = new Date() }) {
  const regions = [...new Set(results.map((r) => r.region))];
  const lines = [
    '# The world simulation',
    '',
    `Run of ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC, \`npm run bench:world\` (bench/world/run.mjs): ${runs} journeys per region`,
    `and setup after one warm-up journey, ${messages} message round trips each. Every path is a latency link`,
    '(bench/world/link.mjs) with the RTTs of bench/world/world.yaml; TLS is real (TLS 1.3, a local CA).',
    'Times in ms; "floor" is what the links alone impose (see bench/world/report.mjs for the count).',
    '',
    '![time to chat-ready by region](load-time.svg)',
    '',
  ];
  for (const region of regions) {
    const r = world.regions.get(region);
    const rows = results.filter((x) => x.region === region).map((x) => ({ setup: x.setup, ...summarize(x) }));
    const direct = rows.find((x) => x.setup === 'direct');
    lines.push(`## ${region} (${r.city}): last mile ${world.rtt(region, region)} ms, ${region === world.core ? 'the core is in this region' : `the ${world.core} core ${world.rtt(region, world.core)} ms away`}`, '');
    lines.push('| setup | chat-ready | floor | × direct | first message | message p50 | message p99 | floor | widget at the edge |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const x of rows) {
      const ratio = direct ? (x.chatReady / direct.chatReady).toFixed(2) + '×' : '';
      lines.push(
        `| ${SETUPS[x.setup] ?? x.setup} | **${fmt(x.chatReady)}** | ${fmt(x.floor.chatReady)} | ${ratio} | ${fmt(x.firstMessage)} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${fmt(x.floor.message)} | ${x.setup === 'direct' ? '—' : x.widgetCache.includes('hit') ? 'hit' : x.widgetCache || '—'} |`,
      );
    }
    if (direct) {
      const pop = rows.find((x) => x.setup === 'pop');
      if (pop) lines.push('', `Saved by the PoP: ${fmt(direct.chatReady - pop.chatReady)} ms to chat-ready (${(pop.chatReady / direct.chatReady).toFixed(2)}× direct).`);
    }
    lines.push('');
  }
  if (browser.length > 0) {
    lines.push('## Confirmed in headless Chromium', '');
    lines.push('One page load per region and setup (after a warm-up), a fresh profile each: from navigation to the widget');
    lines.push("welcomed (its session stored), beside the scripted journey's mean.", '');
    lines.push('| region | setup | Chromium chat-ready | scripted chat-ready | TCP + TLS (navigation) | page (navigation) |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const b of browser) {
      const r = results.find((x) => x.region === b.region && x.setup === b.setup);
      lines.push(`| ${b.region} | ${SETUPS[b.setup] ?? b.setup} | ${fmt(b.chatReady)} | ${r ? fmt(mean(r.runs.map((x) => x.chatReady))) : '—'} | ${fmt(b.connect)} | ${fmt(b.page)} |`);
    }
    lines.push('');
  }
  return { markdown: lines.join('\n'), svg: chart(regions, results) };
}

/** Grouped horizontal bars: average chat-ready per region, direct vs PoP. */
function chart(regions, results) {
  const W = 720;
  const rowH = 56;
  const left = 150;
  const top = 48;
  const H = top + regions.length * rowH + 40;
  const max = Math.max(...results.map((r) => mean(r.runs.map((x) => x.chatReady))));
  const scale = (W - left - 90) / max;
  const colors = { direct: '#9ca3af', pop: '#4f46e5' };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="600" fill="#111827">Average time to chat-ready, by client region (ms)</text>`,
  ];
  regions.forEach((region, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${left - 10}" y="${y + 24}" text-anchor="end" fill="#111827">${region}</text>`);
    ['direct', 'pop'].forEach((setup, j) => {
      const r = results.find((x) => x.region === region && x.setup === setup);
      if (!r) return;
      const v = mean(r.runs.map((x) => x.chatReady));
      const by = y + j * 20;
      parts.push(`<rect x="${left}" y="${by + 4}" width="${Math.max(1, v * scale).toFixed(1)}" height="16" rx="3" fill="${colors[setup]}"/>`);
      parts.push(`<text x="${(left + v * scale + 6).toFixed(1)}" y="${by + 17}" fill="#374151">${Math.round(v).toLocaleString('en-US')}</text>`);
    });
  });
  const ly = H - 18;
  parts.push(`<rect x="${left}" y="${ly - 11}" width="12" height="12" fill="${colors.direct}"/><text x="${left + 18}" y="${ly}" fill="#374151">direct to the core</text>`);
  parts.push(`<rect x="${left + 170}" y="${ly - 11}" width="12" height="12" fill="${colors.pop}"/><text x="${left + 188}" y="${ly}" fill="#374151">through the local Outpost PoP</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
