/**
 * Customer views opened from a view link (`/view#link=asl1.…`, see docs/query-api.md).
 * Imported first by main.ts, so it runs before the app asks for anything: the token moves
 * from the fragment to sessionStorage (where the app keeps a key) and leaves the address
 * bar and history; then the provider's branding is applied, or, when the link has expired,
 * the page says so plainly instead of asking for a key.
 */
import { KEY_STORAGE } from './api';

const LINK_PREFIX = 'asl1.';

function adopt(): string | null {
  const m = /^#link=(asl1\.[\w-]+\.[\w-]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY_STORAGE, m[1]);
    history.replaceState(null, '', `/${location.search}`);
  } else if (location.pathname === '/view') {
    history.replaceState(null, '', `/${location.search}`);
  }
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key && key.startsWith(LINK_PREFIX) ? key : null;
}

function showExpired(message: string): void {
  sessionStorage.removeItem(KEY_STORAGE);
  const main = document.createElement('main');
  main.className = 'link-expired';
  main.setAttribute('role', 'alert');
  const h1 = document.createElement('h1');
  h1.textContent = 'This link has expired';
  const p = document.createElement('p');
  p.textContent = 'Ask for a new link to see these request logs again.';
  const detail = document.createElement('p');
  detail.className = 'link-expired-detail';
  detail.textContent = message;
  main.append(h1, p, detail);
  document.body.replaceChildren(main);
  document.title = 'Link expired';
}

interface Branding {
  title: string | null;
  logoUrl: string | null;
  accentColor: string | null;
}

function applyBranding(b: Branding): void {
  if (b.title) {
    document.title = b.title;
    const heading = document.querySelector('.page-title');
    if (heading) heading.textContent = b.title;
  }
  if (b.accentColor && /^#[0-9a-f]{3,6}$/i.test(b.accentColor)) {
    for (const v of ['--accent', '--accent-2', '--focus']) document.documentElement.style.setProperty(v, b.accentColor);
  }
  if (b.logoUrl && /^https?:\/\//.test(b.logoUrl)) {
    const img = document.createElement('img');
    img.className = 'brand-logo';
    img.alt = '';
    img.src = b.logoUrl;
    img.height = 28;
    document.querySelector('.topbar')?.prepend(img);
  }
  document.documentElement.classList.add('is-link-view');
}

async function check(token: string): Promise<void> {
  try {
    const res = await fetch('/api/whoami', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, credentials: 'omit' });
    if (res.status === 401) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      if (body?.error?.code === 'link_expired') showExpired(body.error.message ?? '');
      return;
    }
    const branding = (await (await fetch('/api/branding', { credentials: 'omit' })).json()) as Branding;
    applyBranding(branding);
  } catch {
    // The app's own requests report an unreachable server.
  }
}

const token = adopt();
if (token) void check(token);
