/**
 * The demo workspace: `w_demo` ("Acme Shop", widget allowed on any site, reply addresses at
 * desk.localhost), two operators (ada@acme.test, grace@acme.test, password `demo-password`) and
 * three canned responses; the demo identity secret (Desk.identify). Idempotent: what exists is kept, what is missing is created.
 */
import { randomBytes } from 'node:crypto';
import type { DeskStore, Operator, Workspace } from './store/types.js';
import { hashPassword } from './server/passwords.js';

export const DEMO_WORKSPACE = 'w_demo';
export const DEMO_PASSWORD = 'demo-password';
/** The demo shop's key for signing its logged-in users (Desk.identify); a real site keeps its own secret. */
export const DEMO_IDENTITY_SECRET = 'demo-identity-secret';

const OPERATORS = [
  { email: 'ada@acme.test', name: 'Ada' },
  { email: 'grace@acme.test', name: 'Grace' },
];

const CANNED = [
  { shortcut: 'hello', body: 'Hi there! Thanks for reaching out to Acme Shop. How can I help?' },
  { shortcut: 'refund', body: 'Refunds are processed within 5 business days of us receiving the item. You will get an email as soon as it is on its way back to you.' },
  { shortcut: 'shipping', body: 'Orders ship within 24 hours on business days; tracking details are emailed as soon as the parcel leaves our warehouse.' },
];

export async function seedDemo(store: DeskStore): Promise<{ workspace: Workspace; operators: Operator[] }> {
  const workspace =
    (await store.getWorkspace(DEMO_WORKSPACE)) ??
    (await store.createWorkspace({
      id: DEMO_WORKSPACE,
      name: 'Acme Shop',
      allowedOrigins: [],
      emailDomain: 'desk.localhost',
      webhookSecret: randomBytes(32).toString('base64url'),
      identitySecret: DEMO_IDENTITY_SECRET,
    }));
  const operators: Operator[] = [];
  for (const o of OPERATORS) {
    operators.push(
      (await store.operatorByEmail(o.email)) ?? (await store.createOperator({ workspaceId: workspace.id, email: o.email, name: o.name, passwordHash: await hashPassword(DEMO_PASSWORD) })),
    );
  }
  const canned = await store.listCanned(workspace.id);
  for (const c of CANNED) {
    if (!canned.some((x) => x.shortcut === c.shortcut)) await store.createCanned({ workspaceId: workspace.id, ...c });
  }
  return { workspace, operators };
}
