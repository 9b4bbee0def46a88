/**
 * The admin GUI's entry point: learn who is logged in (and the CSRF token), build the header and
 * the navigation from the views registry, and route `#/<view>?<params>` to a view, unmounting the
 * previous one (which stops its polling).
 */
import { Api, ApiError, type Session } from './api.js';
import { h, replaceChildren } from './components/h.js';
import { errorText, noticeRegion } from './components/notice.js';
import { VIEWS } from './views/index.js';
import type { View } from './views/view.js';

const api = new Api();
const app = document.getElementById('app')!;

function header(session: Session): HTMLElement {
  return h(
    'header',
    { class: 'app-header' },
    h('a', { class: 'brand', href: '#/dashboard' }, h('img', { src: '/hub/logo', alt: '', width: 28, height: 28 }), 'LabHub ', h('span', { class: 'brand-sub' }, 'admin')),
    h(
      'nav',
      { class: 'account', 'aria-label': 'Account' },
      h('span', { class: 'who', id: 'admin-name' }, session.user),
      h('a', { href: '/hub/home' }, 'My home'),
      h('a', { href: '/hub/logout' }, 'Log out'),
    ),
  );
}

function parseRoute(hash: string): { id: string; params: URLSearchParams } {
  const m = /^#\/([a-z-]*)(?:\?(.*))?$/.exec(hash);
  return { id: m?.[1] || 'dashboard', params: new URLSearchParams(m?.[2] ?? '') };
}

function start(session: Session): void {
  const views = VIEWS.filter((v) => v.available?.() ?? true);
  const links = new Map<string, HTMLAnchorElement>();
  const nav = h(
    'nav',
    { class: 'side-nav', 'aria-label': 'Sections' },
    h(
      'ul',
      null,
      views.map((v) => {
        const a = h('a', { href: `#/${v.id}`, dataset: { view: v.id } }, v.title);
        links.set(v.id, a);
        return h('li', null, a);
      }),
    ),
  );
  const main = h('main', { id: 'main', tabindex: -1 });
  // a button, not an `#main` link: the hash is the router's
  const skip = h('button', { type: 'button', class: 'skip' }, 'Skip to content');
  skip.addEventListener('click', () => main.focus());
  replaceChildren(app, skip, header(session), h('div', { class: 'layout' }, nav, main), noticeRegion());

  let current: { view: View; unmount: () => void } | null = null;
  let first = true;
  const route = () => {
    if (!first && location.hash && !location.hash.startsWith('#/')) return;
    const { id, params } = parseRoute(location.hash);
    const view = views.find((v) => v.id === id) ?? views[0]!;
    current?.unmount();
    current = null;
    main.replaceChildren();
    main.dataset.view = view.id;
    for (const [vid, a] of links) {
      if (vid === view.id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${view.title} · LabHub admin`;
    try {
      current = { view, unmount: view.mount(main, { api, session, params }) };
    } catch (err) {
      main.replaceChildren(h('div', { class: 'error' }, errorText(err)));
    }
    // move focus to the new content for keyboard and screen-reader users, not on first load
    if (!first) main.focus({ preventScroll: true });
    first = false;
  };
  window.addEventListener('hashchange', route);
  route();
}

function notAdmin(session: Session): void {
  replaceChildren(
    app,
    header(session),
    h('main', { class: 'narrow' }, h('h1', null, 'Admins only'), h('p', null, `You are logged in as ${session.user}, who is not a LabHub admin.`), h('a', { class: 'button', href: '/hub/home' }, 'Go to my home page')),
  );
}

async function boot(): Promise<void> {
  try {
    const session = await api.session();
    if (!session.admin) return notAdmin(session);
    start(session);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      location.href = `/hub/login?next=${encodeURIComponent(`/hub/admin${location.hash}`)}`;
      return;
    }
    replaceChildren(app, h('main', { class: 'narrow' }, h('h1', null, 'LabHub admin'), h('div', { class: 'error', role: 'alert' }, errorText(err)), h('p', null, h('a', { href: '/hub/admin' }, 'Try again'))));
  }
}

void boot();
