/**
 * Signing in (POST /api/login) and the session kept in sessionStorage: the token and who it is,
 * so a reload stays signed in and a new tab asks again. Failures say what to do: wrong password,
 * too many attempts (with the wait the server gave), no server.
 */
import { ApiError, type LoginAnswer, login, type OperatorView } from './api.js';
import { byId } from './dom.js';

const TOKEN_KEY = 'desk:operator-token';
const OPERATOR_KEY = 'desk:operator';

export interface SavedSession {
  token: string;
  operator: OperatorView | null;
}

export function savedSession(): SavedSession | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return undefined;
  try {
    return { token, operator: JSON.parse(sessionStorage.getItem(OPERATOR_KEY) || 'null') as OperatorView | null };
  } catch {
    return { token, operator: null };
  }
}

export function saveOperator(operator: OperatorView): void {
  sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(operator));
}

export function forgetSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OPERATOR_KEY);
}

/** The sign-in form instead of the app, with `message` (why) when there is one; the email field focused. */
export function showSignin(message?: string): void {
  byId('app').hidden = true;
  byId('signin').hidden = false;
  showError(message);
  byId('signin-email').focus();
}

function showError(message: string | undefined): void {
  const err = byId('signin-error');
  err.hidden = !message;
  err.textContent = message || '';
}

/** Wires the form: a sign-in that succeeds is saved and handed to `onSignedIn`. */
export function setupSignin(onSignedIn: (answer: LoginAnswer) => void): void {
  const form = byId<HTMLFormElement>('signin-form');
  const button = byId<HTMLButtonElement>('signin-submit');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = byId<HTMLInputElement>('signin-email').value.trim();
    const password = byId<HTMLInputElement>('signin-password').value;
    if (!email || !password) return showError('Enter your email and password.');
    button.disabled = true;
    button.textContent = 'Signing in…';
    let answer: LoginAnswer;
    try {
      answer = await login(email, password);
    } catch (err) {
      return showError(refusal(err));
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
    sessionStorage.setItem(TOKEN_KEY, answer.token);
    saveOperator(answer.operator);
    onSignedIn(answer);
  });
}

/** What to tell the operator when signing in failed. */
function refusal(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Could not reach the server. Check your connection and try again.';
  if (err.status === 401 || err.status === 403) return 'Wrong email or password.';
  if (err.status === 429) {
    const wait = err.retryAfter;
    return `Too many attempts. Try again in ${wait && wait > 90 ? `${Math.ceil(wait / 60)} minutes` : `${wait || 'a few'} seconds`}.`;
  }
  return `Sign-in failed (${err.message}).`;
}
