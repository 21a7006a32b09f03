/**
 * The world simulation's report: a table per client region (time to chat-ready, first-message
 * RTT, message RTT p50/p99, for each setup, with the ratio to direct and the physical floor the
 * world imposes), the goals of issue 7 checked, what a visitor saw when the nearest Desk node died,
 * and an SVG bar chart of the average time to chat-ready by region, before (direct) and after (PoP).
 *
 * Floors, in round trips of the path each step crosses (TLS 1.3: one RTT for its handshake).
 * L is the last mile, C the client region to the core, A the PoP to its nearest Desk node (metro),
 * R that node to the core (0 when it is the core):
 *   (a) direct — chat-ready: 8 × (L + C): TCP, TLS, page, widget, then TCP, TLS, Upgrade and
 *                hello for the socket; a message: 1 × (L + C), and committed at the core the same.
 *   (b) PoP    — chat-ready: 8 × L + 3 × C: the page is revalidated at the core (1), the widget
 *                comes from the PoP's cache (0), the Upgrade goes on a connection to the core
 *                opened ahead (websocket.preconnect: 1) and the hello reads the core (1); a
 *                message: L + C.
 *   (c) PoP + steering — 8 × L + 3 × A: the same with A for C; the regional node welcomes a new
 *                visitor itself (it knows the workspace from the warm-up journey); a message is
 *                safe at L + A (the node's accept) and committed at L + A + R (the core's ack).
 *                A returning visitor's hello would add R (its session lives at the core).
 *   (d) after the nearest node died — the same with the next nearest node's RTTs.
 */

const SETUPS = { direct: '(a) direct to the core', pop: '(b) through the local PoP', steer: '(c) PoP + steering to the nearest Desk node' };
const SHORT = { direct: 'direct', pop: 'PoP', steer: 'PoP + steering' };

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x) => (x === undefined || Number.isNaN(x) ? '—' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

/** @param {{ setup: string, lastMile: number, far: number, toCore: number, toAtlas: number, atlasToCore?: number }} r */
export function floors(r) {
  const L = r.lastMile;
  if (r.setup === 'direct') return { chatReady: 8 * r.far, message: r.far, committed: r.far };
  if (r.setup === 'pop') return { chatReady: 8 * L + 3 * r.toCore, message: L + r.toCore, committed: L + r.toCore };
  const R = r.atlasToCore ?? 0;
  return { chatReady: 8 * L + 3 * r.toAtlas, message: L + r.toAtlas, committed: L + r.toAtlas + R };
}

export function summarize(r) {
  const messages = r.runs.flatMap((x) => x.messages);
  return {
    chatReady: mean(r.runs.map((x) => x.chatReady)),
    firstMessage: mean(r.runs.map((x) => x.firstMessage)),
    p50: quantile(messages, 0.5),
    p99: quantile(messages, 0.99),
    committed: quantile(
      r.runs.flatMap((x) => x.committed ?? x.messages),
      0.5,
    ),
    widgetCache: r.runs.map((x) => x.widgetCache).find(Boolean) ?? '',
    floor: floors(r),
  };
}

/** The issue's goals, for the regions far from the core. */
function goals(_world, table, cost) {
  const lines = [];
  const far = ['ap-southeast', 'oceania'].filter((r) => table.has(r));
  for (const region of far) {
    const rows = table.get(region);
    const a = rows.find((x) => x.setup === 'direct');
    const c = rows.find((x) => x.setup === 'steer');
    if (!a || !c) continue;
    const ok = (b) => (b ? 'met' : '**not met**');
    const ratio = c.chatReady / a.chatReady;
    lines.push(
      `| ${region} | chat-ready (c) ≤ 0.25× (a) | ${ratio.toFixed(3)}× (${fmt(c.chatReady)} vs ${fmt(a.chatReady)} ms; floors ${fmt(c.floor.chatReady)} vs ${fmt(a.floor.chatReady)}) | ${ok(ratio <= 0.25)} |`,
    );
    if (region === 'oceania')
      lines.push(`| ${region} | saving ≥ 2 s | ${fmt(a.chatReady - c.chatReady)} ms (floor difference ${fmt(a.floor.chatReady - c.floor.chatReady)}) | ${ok(a.chatReady - c.chatReady >= 2000)} |`);
    const alone = cost?.links ? quantile(cost.links, 0.99) : undefined;
    const beside = !alone
      ? ''
      : `; the links alone: ${fmt(alone)} ms, ${(alone / c.floor.message).toFixed(2)}× (${c.p99 <= alone ? "Outpost and Desk are lost in the links' own tail" : `Outpost and Desk add ${fmt(c.p99 - alone)} ms to it`})`;
    lines.push(
      `| ${region} | message p99 (c) ≤ 1.2× client-to-atlas floor | ${fmt(c.p99)} ms vs ${fmt(c.floor.message)} ms floor: ${(c.p99 / c.floor.message).toFixed(2)}×${beside} | ${ok(c.p99 <= 1.2 * c.floor.message)} |`,
    );
  }
  if (lines.length === 0) return [];
  return ['## The goals (issue 7)', '', '| client | goal | measured | |', '| --- | --- | --- | --- |', ...lines, ''];
}

export function renderReport({ world, results, browser = [], failover, previous, cost, runs, messages, date = new Date() }) {
  const regions = [...new Set(results.map((r) => r.region))];
  const table = new Map(regions.map((region) => [region, results.filter((x) => x.region === region).map((x) => ({ setup: x.setup, ...summarize(x) }))]));
  const summary = Object.fromEntries(regions.flatMap((region) => table.get(region).map((x) => [`${region} ${x.setup}`, { chatReady: x.chatReady, p50: x.p50, p99: x.p99 }])));
  const lines = [
    '# The world simulation',
    '',
    `Run of ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC, \`npm run bench:world\` (bench/world/run.mjs): ${runs} journeys per region`,
    `and setup after one warm-up journey, ${messages} message round trips each. Every path is a latency link`,
    '(bench/world/link.mjs, its own process) with the RTTs of bench/world/world.yaml; TLS is real (TLS 1.3, a local CA).',
    `Desk runs its core (and its database) in ${world.core} and a regional node in every other region ([desk/REGIONAL.md](../../desk/REGIONAL.md)):`,
    "no database there; it relays each visitor to the core over a link with its region's RTT to the core, on sockets",
    'opened beforehand, welcomes new visitors itself (session and conversation minted there, created at the core',
    "with those), and accepts messages into its own journal (`message.accepted`), the core's ack following.",
    `A PoP reaches a Desk node in its own region over a ${world.metroRttMs} ms metro link.`,
    '"message" is until the sender hears its message is safe (the ack; through a regional node, its accept); "at the',
    'core" until the core\'s ack (stored, with its seq: when the operator can see it).',
    'Times in ms; "floor" is what the links alone impose (see bench/world/report.mjs for the count), beside each number.',
    '',
    '![time to chat-ready by region](load-time.svg)',
    '',
    ...goals(world, table, cost),
    ...(cost ? costSection(cost) : []),
  ];
  for (const region of regions) {
    const r = world.regions.get(region);
    const rows = table.get(region);
    const direct = rows.find((x) => x.setup === 'direct');
    lines.push(
      `## ${region} (${r.city}): last mile ${world.rtt(region, region)} ms, ${region === world.core ? 'the core is in this region' : `the ${world.core} core ${world.rtt(region, world.core)} ms away`}`,
      '',
    );
    lines.push('| setup | chat-ready | floor | × direct | first message | floor | message p50 | message p99 | floor | at the core p50 | floor | widget at the edge |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const x of rows) {
      const ratio = direct ? `${(x.chatReady / direct.chatReady).toFixed(2)}×` : '';
      const f = fmt(x.floor.message);
      lines.push(
        `| ${SETUPS[x.setup] ?? x.setup} | **${fmt(x.chatReady)}** | ${fmt(x.floor.chatReady)} | ${ratio} | ${fmt(x.firstMessage)} | ${f} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${f} | ${fmt(x.committed)} | ${fmt(x.floor.committed)} | ${x.setup === 'direct' ? '—' : x.widgetCache.includes('hit') ? 'hit' : x.widgetCache || '—'} |`,
      );
    }
    if (direct) {
      const saved = rows.filter((x) => x.setup !== 'direct').map((x) => `${SHORT[x.setup]} ${fmt(direct.chatReady - x.chatReady)} ms`);
      if (saved.length) lines.push('', `Saved to chat-ready: ${saved.join(', ')}.`);
    }
    lines.push('');
  }
  if (failover) lines.push(...failoverSection(world, failover));
  if (browser.length > 0) {
    lines.push('## Confirmed in headless Chromium', '');
    lines.push('One page load per region and setup (after a warm-up), a fresh profile each: from navigation to the widget');
    lines.push(
      "welcomed (its session stored), beside the scripted journey's mean. Chromium also loads the page's other assets",
      'and starts the widget only after them, so its number is larger by those requests.',
      '',
    );
    lines.push('| region | setup | Chromium chat-ready | scripted chat-ready | TCP + TLS (navigation) | page (navigation) |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const b of browser) {
      const r = results.find((x) => x.region === b.region && x.setup === b.setup);
      lines.push(`| ${b.region} | ${SETUPS[b.setup] ?? b.setup} | ${fmt(b.chatReady)} | ${r ? fmt(mean(r.runs.map((x) => x.chatReady))) : '—'} | ${fmt(b.connect)} | ${fmt(b.page)} |`);
    }
    lines.push('');
  }
  if (previous?.summary) lines.push(...repeatability(previous, summary));
  return { markdown: lines.join('\n'), svg: chart(regions, results), summary };
}

/** The machine's own cost per round trip, measured with no link on the way. */
function costSection(cost) {
  const row = (name, xs) => `| ${name} | ${fmt(quantile(xs, 0.5))} | ${fmt(quantile(xs, 0.99))} |`;
  return [
    'What the machine itself adds to a message round trip (send → ack, no link on the way, 100 messages): every',
    'path below carries this above its floor, and (c) crosses two links and an Outpost before Desk.',
    '',
    '| no links | p50 | p99 |',
    '| --- | ---: | ---: |',
    row('Desk alone (ws, SQLite write, ack)', cost.desk),
    row('Desk behind one Outpost (TLS, WebSocket splice)', cost.outpost),
    ...(cost.regional ? [row("a regional node's accept (journal written, the core far)", cost.regional)] : []),
    '',
    ...(cost.links
      ? [
          `And the links alone as (c) crosses them (last mile, metro), a TCP echo at the end instead of Outpost and Desk,`,
          `measured right after the journeys (after 20 round trips not counted): the network emulation and the machine's`,
          `scheduling, nothing of ours. Floor ${fmt(cost.linksFloor)} ms.`,
          '',
          '| links alone | p50 | p99 | p99 ÷ floor |',
          '| --- | ---: | ---: | ---: |',
          `| last mile + metro, echo | ${fmt(quantile(cost.links, 0.5))} | ${fmt(quantile(cost.links, 0.99))} | ${(quantile(cost.links, 0.99) / cost.linksFloor).toFixed(2)}× |`,
          '',
        ]
      : []),
  ];
}

function failoverSection(world, f) {
  const s = f.seen;
  const L = f.lastMile;
  const newcomers = summarize({ setup: 'steer', lastMile: L, toAtlas: f.toNext, atlasToCore: f.nextToCore ?? 0, runs: f.runs });
  const p = (xs, q) => (xs.length ? quantile(xs, q) : undefined);
  return [
    `## (d) The ${f.region} Desk node dies`,
    '',
    `A visitor in ${f.region} chats through the PoP with steering (a message every 250 ms) when its Desk node is killed`,
    `(SIGKILL). The visitor does what the widget does: on the drop it reconnects after 0.5 s, says hello with its session,`,
    `and resends what the core has not acknowledged. The PoP's monitor and retries send it to the next nearest node, ${f.next}`,
    `(${f.toNext} ms from the PoP${f.nextToCore ? `, ${f.nextToCore} ms from the core` : ''}). Times from the kill, in ms; "lost" is never acknowledged by the core.`,
    '',
    '| what the visitor sees | measured | floor |',
    '| --- | ---: | ---: |',
    `| the socket drops | ${fmt(s.dropSeen)} | ${fmt((L + world.metroRttMs) / 2)} |`,
    `| chat back (reconnected, welcomed) | ${fmt(s.chatBack)} | ${fmt((L + world.metroRttMs) / 2 + 500 + 3 * L + 3 * f.toNext + (f.nextToCore ?? 0))} |`,
    `| reconnect attempts that failed | ${s.attempts - 1} | 0 |`,
    `| messages sent / lost | ${s.sent} / ${s.lost} | — / 0 |`,
    `| messages held up by the outage / the longest wait for an ack | ${s.delayed} / ${fmt(s.longestWait)} | — |`,
    `| message RTT p50 before → after | ${fmt(p(s.rttBefore, 0.5))} → ${fmt(p(s.rttAfter, 0.5))} | ${fmt(L + world.metroRttMs)} → ${fmt(L + f.toNext)} |`,
    `| new visitors after the death: chat-ready (${f.runs.length} journeys) | ${fmt(newcomers.chatReady)} | ${fmt(newcomers.floor.chatReady)} |`,
    `| new visitors: message p50 / p99 | ${fmt(newcomers.p50)} / ${fmt(newcomers.p99)} | ${fmt(newcomers.floor.message)} |`,
    '',
    `The widget shows "Reconnecting…" only when it has been down 1.2 s (desk/web/widget/link-grace.ts): ${s.chatBack < 1200 ? 'this visitor never saw it' : 'this visitor saw it'}.`,
    '',
  ];
}

/** This run against the previous one (bench/world/last-run.json): chat-ready, p50 and p99. */
function repeatability(previous, summary) {
  const rows = [];
  let worst = 0;
  for (const [key, now] of Object.entries(summary)) {
    const was = previous.summary[key];
    if (!was) continue;
    const d = (now.chatReady - was.chatReady) / was.chatReady;
    const d50 = (now.p50 - was.p50) / was.p50;
    worst = Math.max(worst, Math.abs(d), Math.abs(d50));
    rows.push(
      `| ${key} | ${fmt(was.chatReady)} → ${fmt(now.chatReady)} (${(d * 100).toFixed(1)} %) | ${fmt(was.p50)} → ${fmt(now.p50)} (${(d50 * 100).toFixed(1)} %) | ${fmt(was.p99)} → ${fmt(now.p99)} |`,
    );
  }
  if (rows.length === 0) return [];
  return [
    '## Against the previous run',
    '',
    `The previous run (${previous.date.slice(0, 16).replace('T', ' ')} UTC) and this one: the largest difference in mean chat-ready or message p50 is ${(worst * 100).toFixed(1)} % (goal: within 10 %).`,
    '',
    '| region and setup | chat-ready | message p50 | message p99 |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

/** Grouped horizontal bars: average chat-ready per region, direct vs PoP vs PoP + steering. */
function chart(regions, results) {
  const setups = ['direct', 'pop', 'steer'];
  const W = 760;
  const barH = 16;
  const rowH = setups.length * 20 + 16;
  const left = 150;
  const top = 48;
  const H = top + regions.length * rowH + 40;
  const max = Math.max(...results.map((r) => mean(r.runs.map((x) => x.chatReady))));
  const scale = (W - left - 90) / max;
  const colors = { direct: '#9ca3af', pop: '#818cf8', steer: '#4338ca' };
  const labels = { direct: 'direct to the core (before)', pop: 'through the local PoP', steer: 'PoP + nearest Desk node (after)' };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="600" fill="#111827">Average time to chat-ready, by client region (ms)</text>`,
  ];
  regions.forEach((region, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${left - 10}" y="${y + 34}" text-anchor="end" fill="#111827">${region}</text>`);
    setups.forEach((setup, j) => {
      const r = results.find((x) => x.region === region && x.setup === setup);
      if (!r) return;
      const v = mean(r.runs.map((x) => x.chatReady));
      const by = y + j * 20;
      parts.push(`<rect x="${left}" y="${by + 4}" width="${Math.max(1, v * scale).toFixed(1)}" height="${barH}" rx="3" fill="${colors[setup]}"/>`);
      parts.push(`<text x="${(left + v * scale + 6).toFixed(1)}" y="${by + 17}" fill="#374151">${Math.round(v).toLocaleString('en-US')}</text>`);
    });
  });
  const ly = H - 18;
  let x = 20;
  for (const setup of setups) {
    parts.push(`<rect x="${x}" y="${ly - 11}" width="12" height="12" fill="${colors[setup]}"/><text x="${x + 18}" y="${ly}" fill="#374151">${labels[setup]}</text>`);
    x += 18 + labels[setup].length * 7 + 24;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
