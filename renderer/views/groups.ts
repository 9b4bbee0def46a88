/**
 * Classes (hub groups): list, create, delete; see and edit members; start or stop every member's
 * server one after the other with a progress bar and the failures listed per student.
 */
import type { Api, Group } from '../api.js';
import { confirmDialog } from '../components/dialog.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox, errorText, notify } from '../components/notice.js';
import { GROUP_NAME } from './user-actions.js';
import type { View } from './view.js';

export const groupsView: View = {
  id: 'groups',
  title: 'Classes',
  mount(root, { api, params }) {
    const list = h('div', { id: 'group-list' });
    const detail = h('div', { id: 'group-detail', class: 'card' }, h('p', { class: 'muted' }, 'Choose a class.'));
    const newName = h('input', { type: 'text', id: 'new-group', autocomplete: 'off', spellcheck: 'false', required: true });
    const newProblem = h('p', { class: 'field-error' });
    const createForm = h(
      'form',
      { class: 'inline-form', id: 'new-group-form' },
      h('label', { for: newName.id }, 'New class'),
      newName,
      h('button', { type: 'submit', class: 'small' }, 'Create'),
      newProblem,
    );
    let groups: Group[] = [];
    let current = params.get('name');
    let alive = true;

    const load = async () => {
      try {
        groups = (await api.groups()).sort((a, b) => a.name.localeCompare(b.name));
        if (!alive) return;
        renderList();
        const g = groups.find((x) => x.name === current);
        if (g) showGroup(g);
        else replaceChildren(detail, h('p', { class: 'muted' }, groups.length ? 'Choose a class.' : 'No classes yet: create one, or import a roster with a class column.'));
      } catch (err) {
        replaceChildren(list, errorBox(err));
      }
    };

    const renderList = () => {
      replaceChildren(
        list,
        h(
          'ul',
          { class: 'group-list' },
          groups.map((g) => {
            const b = h('button', { type: 'button', class: 'group-item', dataset: { group: g.name }, 'aria-current': g.name === current ? 'true' : undefined }, h('span', null, g.name), h('span', { class: 'muted small' }, `${g.users.length} member${g.users.length === 1 ? '' : 's'}`));
            b.addEventListener('click', () => {
              current = g.name;
              renderList();
              showGroup(g);
            });
            return h('li', null, b);
          }),
        ),
      );
    };

    const showGroup = (g: Group) => {
      const progress = h('div', { class: 'bulk-progress', 'aria-live': 'polite' });
      const addInput = h('input', { type: 'text', id: 'add-member', list: 'member-names', autocomplete: 'off', spellcheck: 'false', placeholder: 'user name(s), comma separated' });
      const addForm = h('form', { class: 'inline-form' }, h('label', { for: addInput.id }, 'Add members'), addInput, h('datalist', { id: 'member-names' }), h('button', { type: 'submit', class: 'small' }, 'Add'));
      void api.users().then((users) => {
        const dl = addForm.querySelector('datalist')!;
        dl.replaceChildren(...users.filter((u) => !g.users.includes(u.name)).map((u) => h('option', { value: u.name }, u.fullName ?? '')));
      }, () => undefined);
      addForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        const names = addInput.value.split(/[\s,;]+/).filter(Boolean);
        if (!names.length) return;
        try {
          await api.addToGroup(g.name, names);
          notify(`Added ${names.join(', ')} to ${g.name}.`);
          await load();
        } catch (err) {
          notify(errorText(err), 'error');
        }
      });
      const startAll = h('button', { type: 'button', class: 'small', disabled: !g.users.length }, 'Start all servers');
      const stopAll = h('button', { type: 'button', class: 'small secondary', disabled: !g.users.length }, 'Stop all servers');
      const del = h('button', { type: 'button', class: 'small danger' }, 'Delete class');
      startAll.addEventListener('click', () => void runAll(api, g, true, progress, [startAll, stopAll]));
      stopAll.addEventListener('click', () => void runAll(api, g, false, progress, [startAll, stopAll]));
      del.addEventListener('click', async () => {
        const ok = await confirmDialog(`Delete ${g.name}`, `Delete the class ${g.name}? Its ${g.users.length} members keep their accounts and files; only the class goes.`, 'Delete class', 'danger');
        if (!ok) return;
        try {
          await api.deleteGroup(g.name);
          notify(`Deleted ${g.name}.`);
          current = null;
          await load();
        } catch (err) {
          notify(errorText(err), 'error');
        }
      });
      const members = g.users.length
        ? h(
            'ul',
            { class: 'members' },
            [...g.users].sort().map((u) => {
              const rm = h('button', { type: 'button', class: 'link small', 'aria-label': `Remove ${u} from ${g.name}` }, 'remove');
              rm.addEventListener('click', async () => {
                try {
                  await api.removeFromGroup(g.name, [u]);
                  notify(`Removed ${u} from ${g.name}.`);
                  await load();
                } catch (err) {
                  notify(errorText(err), 'error');
                }
              });
              return h('li', { dataset: { user: u } }, h('span', { class: 'mono' }, u), ' ', rm);
            }),
          )
        : h('p', { class: 'muted' }, 'No members yet.');
      replaceChildren(
        detail,
        h('div', { class: 'view-head' }, h('h2', null, g.name), h('span', { class: 'muted' }, `${g.users.length} members`)),
        h('div', { class: 'buttons' }, startAll, stopAll, h('span', { class: 'spacer' }), del),
        progress,
        members,
        addForm,
      );
    };

    createForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = newName.value.trim();
      if (!GROUP_NAME.test(name)) {
        newProblem.textContent = 'Use letters, digits, "_", "." and "-" (up to 64).';
        return;
      }
      try {
        await api.createGroup(name);
        newProblem.textContent = '';
        newName.value = '';
        current = name;
        notify(`Created ${name}.`);
        await load();
      } catch (err) {
        newProblem.textContent = errorText(err);
      }
    });

    root.append(h('div', { class: 'view-head' }, h('h1', null, 'Classes')), h('div', { class: 'split' }, h('div', { class: 'card' }, createForm, list), detail));
    void load();
    return () => {
      alive = false;
    };
  },
};

/** Starts or stops each member's server in turn; one failure never stops the rest. */
async function runAll(api: Api, g: Group, start: boolean, out: HTMLElement, buttons: HTMLButtonElement[]): Promise<void> {
  for (const b of buttons) b.disabled = true;
  const names = [...g.users].sort();
  const bar = h('progress', { max: names.length, value: 0 });
  const line = h('span');
  const failures = h('ul', { class: 'failures' });
  replaceChildren(out, h('label', null, start ? 'Starting servers' : 'Stopping servers', bar), line, failures);
  let failed = 0;
  for (const [i, name] of names.entries()) {
    line.textContent = `${i + 1} of ${names.length}: ${name}`;
    try {
      if (start) await api.startServer(name);
      else await api.stopServer(name);
    } catch (err) {
      // starting a running server or stopping a stopped one is not a failure worth listing
      if (!/already|not running|is not started/i.test(errorText(err))) {
        failed++;
        failures.appendChild(h('li', null, h('strong', null, name), `: ${errorText(err)}`));
      }
    }
    bar.value = i + 1;
  }
  line.textContent = `Asked ${names.length - failed} of ${names.length} servers to ${start ? 'start' : 'stop'}${failed ? `; ${failed} failed:` : '.'}`;
  for (const b of buttons) b.disabled = false;
}
