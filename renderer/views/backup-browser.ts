/**
 * A user's snapshots in one dialog: pick a snapshot, walk its folders, restore a file or folder
 * into ~/restored-<time>/ (the default: nothing is overwritten) or in place, which first shows the
 * hub's list of the files that would be overwritten and needs a second, explicit click.
 */
import type { Api, RestorePlan, RestoreResult, SnapshotEntry, SnapshotInfo } from '../api.js';
import { openDialog } from '../components/dialog.js';
import { bytes, dateTime } from '../components/format.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox, notify } from '../components/notice.js';

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Opens the browser for `user`'s snapshots. */
export function openSnapshotBrowser(api: Api, user: string): void {
  const body = h('div', { id: 'snapshot-browser' }, h('p', { class: 'muted' }, 'Loading…'));
  const d = openDialog(`Backups of ${user}`, body, [{ label: 'Close' }]);
  d.element.classList.add('wide');

  const showSnapshots = async () => {
    let snaps: SnapshotInfo[];
    try {
      snaps = await api.snapshots(user);
    } catch (err) {
      return replaceChildren(body, errorBox(err));
    }
    if (!snaps.length) return replaceChildren(body, h('p', { class: 'muted' }, `${user} has no snapshots yet.`));
    replaceChildren(
      body,
      h(
        'ul',
        { class: 'snapshot-list' },
        snaps.map((s, i) => {
          const b = h('button', { type: 'button', class: 'link', dataset: { snapshot: s.id } }, when(s.time));
          b.addEventListener('click', () => void showFolder(s, '/'));
          return h('li', null, b, h('span', { class: 'muted small' }, ` ${s.shortId}${i === 0 ? ' · newest' : ''}`));
        }),
      ),
    );
  };

  const showFolder = async (s: SnapshotInfo, path: string) => {
    let entries: SnapshotEntry[];
    try {
      entries = await api.snapshotFiles(user, s.id, path);
    } catch (err) {
      return replaceChildren(body, errorBox(err));
    }
    entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
    const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Folder' });
    const back = h('button', { type: 'button', class: 'link' }, 'All snapshots');
    back.addEventListener('click', () => void showSnapshots());
    const home = h('button', { type: 'button', class: 'link' }, `~${user}`);
    home.addEventListener('click', () => void showFolder(s, '/'));
    crumbs.append(back, ' › ', home);
    let acc = '';
    for (const part of path.split('/').filter(Boolean)) {
      const to = (acc += `/${part}`);
      const c = h('button', { type: 'button', class: 'link' }, part);
      c.addEventListener('click', () => void showFolder(s, to));
      crumbs.append(' / ', c);
    }
    const rows = entries.map((e) => {
      const name = e.type === 'dir' ? h('button', { type: 'button', class: 'link' }, `${e.name}/`) : h('span', null, e.name);
      if (e.type === 'dir') name.addEventListener('click', () => void showFolder(s, e.path));
      const restore = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Restore ${e.path}` }, 'Restore…');
      restore.addEventListener('click', () => restoreDialog(api, user, s, e.path));
      return h('tr', { dataset: { path: e.path } }, h('td', null, name), h('td', { class: 'mono small' }, e.permissions), h('td', { class: 'num' }, e.type === 'dir' ? '' : bytes(e.size)), h('td', null, dateTime(e.mtime)), h('td', null, restore));
    });
    const all = h('button', { type: 'button', class: 'small' }, path === '/' ? 'Restore the whole home…' : 'Restore this folder…');
    all.addEventListener('click', () => restoreDialog(api, user, s, path));
    replaceChildren(
      body,
      h('p', null, h('strong', null, when(s.time)), h('span', { class: 'muted small' }, ` snapshot ${s.shortId}`)),
      crumbs,
      rows.length ? h('table', { class: 'table compact' }, h('tbody', null, rows)) : h('p', { class: 'muted' }, 'This folder was empty.'),
      h('div', { class: 'buttons' }, all),
    );
  };

  void showSnapshots();
}

/** Asks side or in place; in place shows the overwrite list and needs "Overwrite N files". */
export function restoreDialog(api: Api, user: string, s: SnapshotInfo, path: string): void {
  const side = h('input', { type: 'radio', name: 'restore-mode', id: 'restore-side', value: 'side', checked: true });
  const inPlace = h('input', { type: 'radio', name: 'restore-mode', id: 'restore-in-place', value: 'in-place' });
  const planBox = h('div', { id: 'restore-plan', 'aria-live': 'polite' });
  let plan: RestorePlan | null = null;
  const body = h(
    'div',
    null,
    h('p', null, `Restore ${path === '/' ? 'the whole home' : path} of ${user} from the snapshot of ${when(s.time)}:`),
    h('div', { class: 'radio' }, side, h('label', { for: side.id }, `into ~${user}/restored-<time>/ (nothing is overwritten)`)),
    h('div', { class: 'radio' }, inPlace, h('label', { for: inPlace.id }, 'in place (overwrites the files there now)')),
    planBox,
  );
  const d = openDialog('Restore from backup', body, [
    { label: 'Cancel' },
    { label: 'Restore', name: 'go', kind: 'primary', run: () => go() },
  ]);
  const button = d.buttons.get('go')!;
  const reset = () => {
    plan = null;
    planBox.replaceChildren();
    button.textContent = 'Restore';
    button.className = 'primary';
  };
  side.addEventListener('change', reset);
  inPlace.addEventListener('change', reset);

  const go = async (): Promise<boolean> => {
    const mode = inPlace.checked ? 'in-place' : 'side';
    try {
      const answer = await api.restore(user, s.id, path, mode, plan?.confirmToken ?? undefined);
      if ('plan' in answer) {
        showPlan(answer.plan);
        return false;
      }
      done(answer);
      return true;
    } catch (err) {
      planBox.replaceChildren(errorBox(err));
      return false;
    }
  };
  const showPlan = (p: RestorePlan) => {
    plan = p;
    const n = p.overwrite.length;
    replaceChildren(
      planBox,
      h('p', { class: 'notice' }, n ? `${n} file${n === 1 ? '' : 's'} in ${p.target} will be replaced:` : 'No existing file will be overwritten.'),
      n ? h('ul', { class: 'overwrite-list', id: 'overwrite-list' }, p.overwrite.slice(0, 500).map((f) => h('li', { class: 'mono' }, f)), n > 500 ? h('li', { class: 'muted' }, `…and ${n - 500} more`) : null) : null,
    );
    button.textContent = n ? `Overwrite ${n} file${n === 1 ? '' : 's'}` : 'Restore in place';
    button.className = n ? 'danger' : 'primary';
  };
  const done = (r: RestoreResult) => notify(`Restored ${r.files} file(s) (${bytes(r.bytes)}) of ${r.path} for ${r.user} into ${r.target}.`);
}
