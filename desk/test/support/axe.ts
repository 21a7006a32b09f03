/**
 * axe-core in a Playwright page, as every browser test of Desk runs it: the serious and critical
 * WCAG 2.1 A/AA violations of the page as it is (the widget's open shadow root included).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string;
  help: string;
  /** The first few elements, as selectors. */
  nodes: string[];
}

export async function violations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE);
  const found = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => JSON.stringify(n.target)) })))`,
  )) as Violation[];
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
