/**
 * The HTML part of Desk's emails, beside their plain text: the same words, every value escaped
 * (message bodies are whatever a visitor typed), inline styles only (mail clients drop <style>
 * and never run scripts), no remote images. Pure.
 */

export interface EmailBlock {
  author: string;
  body: string;
  /** ms since epoch, shown as UTC when given. */
  at?: number;
  /** The message's files, as links. */
  files?: { name: string; href: string; size: string }[];
}

export interface EmailPage {
  /** The line above the messages (the workspace's name, say). */
  title: string;
  intro?: string;
  blocks: EmailBlock[];
  /** A link shown as a button (a confirmation link). */
  action?: { href: string; label: string };
  footer: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Text with its line breaks kept. */
function paragraphs(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, '<br>');
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function emailHtml(page: EmailPage): string {
  const blocks = page.blocks
    .map(
      (b) =>
        `<tr><td style="padding:12px 0;border-top:1px solid #e5e7eb">` +
        `<div style="font-size:13px;color:#4b5563;margin-bottom:4px"><strong style="color:#111827">${escapeHtml(b.author)}</strong>${b.at === undefined ? '' : ` · ${when(b.at)}`}</div>` +
        `<div style="font-size:15px;line-height:1.5;color:#111827">${paragraphs(b.body)}</div>` +
        (b.files ?? [])
          .map(
            (f) =>
              `<div style="font-size:14px;margin-top:6px">📎 <a href="${escapeHtml(f.href)}" style="color:#4338ca">${escapeHtml(f.name)}</a> <span style="color:#4b5563">(${escapeHtml(f.size)})</span></div>`,
          )
          .join('') +
        `</td></tr>`,
    )
    .join('');
  const action = page.action
    ? `<tr><td style="padding:16px 0"><a href="${escapeHtml(page.action.href)}" style="display:inline-block;background:#4f46e5;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px;font-weight:600">${escapeHtml(page.action.label)}</a></td></tr>`
    : '';
  return (
    `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(page.title)}</title></head>` +
    `<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif">` +
    `<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:20px 24px">` +
    `<tr><td style="font-size:18px;font-weight:700;color:#111827;padding-bottom:8px">${escapeHtml(page.title)}</td></tr>` +
    (page.intro ? `<tr><td style="font-size:15px;color:#374151;padding-bottom:8px">${paragraphs(page.intro)}</td></tr>` : '') +
    blocks +
    action +
    `<tr><td style="font-size:12px;color:#4b5563;padding-top:16px;border-top:1px solid #e5e7eb">${paragraphs(page.footer)}</td></tr>` +
    `</table></body></html>`
  );
}
