/**
 * Add users and import a class roster: one user by form, or a CSV (typed, pasted or read from a
 * file). Preview shows what would happen per row (POST …/accounts/preview changes nothing);
 * creating sends the same input and shows per-row results and the credential slips.
 */
import type { AccountsBody, Api, CreateResult, PreviewResult } from '../api.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox } from '../components/notice.js';
import { credentialSheet } from './credential-sheet.js';
import type { View } from './view.js';

const SAMPLE = 'name,full name,group,password\ns01,Ada Lovelace,cs101,\ns02,Alan Turing,cs101,';
const ACTION_TEXT = { create: 'create', exists: 'exists: add to class', invalid: 'invalid', duplicate: 'duplicate' } as const;

function field(id: string, label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null);
}

function previewTable(p: PreviewResult): HTMLElement {
  return h(
    'table',
    { class: 'table compact', id: 'preview-table' },
    h(
      'thead',
      null,
      h('tr', null, ['Line', 'Name', 'Full name', 'Class', 'Password', 'Action', 'Problems'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    h(
      'tbody',
      null,
      p.rows.map((r) =>
        h(
          'tr',
          { class: `action-${r.action}`, dataset: { action: r.action, line: String(r.line) } },
          h('td', { class: 'num' }, String(r.line)),
          h('td', { class: 'mono' }, r.name),
          h('td', null, r.fullName),
          h('td', null, r.group),
          h('td', null, r.passwordGiven ? 'given' : 'generated'),
          h('td', null, h('span', { class: `pill action-${r.action}` }, ACTION_TEXT[r.action] ?? r.action)),
          h('td', { class: 'wrap' }, r.problems.join('; ')),
        ),
      ),
    ),
  );
}

function resultTable(c: CreateResult): HTMLElement {
  return h(
    'table',
    { class: 'table compact', id: 'create-table' },
    h('thead', null, h('tr', null, ['Line', 'Name', 'Class', 'Result', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      null,
      c.rows.map((r) =>
        h(
          'tr',
          { dataset: { status: r.status } },
          h('td', { class: 'num' }, String(r.line)),
          h('td', { class: 'mono' }, r.name),
          h('td', null, r.group),
          h('td', null, h('span', { class: `pill status-${r.status}` }, r.status)),
          h('td', { class: 'wrap' }, r.message ?? ''),
        ),
      ),
    ),
  );
}

function summaryText(p: PreviewResult): string {
  const s = p.summary;
  return `${s.create} to create, ${s.exists} existing, ${s.invalid} invalid, ${s.duplicate} duplicate.`;
}

export const importView: View = {
  id: 'import',
  title: 'Add users',
  mount(root, { api }) {
    const output = h('div', { id: 'import-output', 'aria-live': 'polite' });

    const create = async (body: AccountsBody) => {
      replaceChildren(output, h('p', { class: 'muted' }, 'Creating accounts…'));
      try {
        const result = await api.createAccounts(body);
        const s = result.summary;
        replaceChildren(
          output,
          h('h2', null, 'Results'),
          h('p', { id: 'create-summary' }, `${s.created} created, ${s.updated} updated, ${s.skipped} skipped, ${s.failed} failed.`),
          h('div', { class: 'table-wrap' }, resultTable(result)),
          credentialSheet(result.rows.filter((r) => r.status === 'created')),
        );
      } catch (err) {
        replaceChildren(output, errorBox(err));
      }
      output.scrollIntoView({ block: 'start' });
    };

    root.append(h('div', { class: 'view-head' }, h('h1', null, 'Add users')), oneUserForm(api, output, create), rosterForm(api, output, create), output);
    return () => undefined;
  },
};

function oneUserForm(api: Api, output: HTMLElement, create: (b: AccountsBody) => Promise<void>): HTMLElement {
  const name = h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', pattern: '[a-z_][a-z0-9_\\-]{0,31}' });
  const fullName = h('input', { type: 'text', autocomplete: 'off' });
  const group = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const password = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', minlength: 8 });
  const form = h(
    'form',
    { class: 'card', id: 'one-user' },
    h('h2', null, 'One user'),
    h(
      'div',
      { class: 'form-grid' },
      field('one-name', 'User name', name, 'Lower case letters, digits, "_" and "-".'),
      field('one-fullname', 'Full name', fullName),
      field('one-group', 'Class (group)', group),
      field('one-password', 'Initial password', password, 'Leave empty to generate one (at least 8 characters).'),
    ),
    h('button', { type: 'submit' }, 'Add user'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = { name: name.value.trim(), fullName: fullName.value.trim() || undefined, group: group.value.trim() || undefined, password: password.value || undefined };
    const body: AccountsBody = { users: [user] };
    try {
      const p = await api.previewAccounts(body);
      const row = p.rows[0];
      if (!row || row.action === 'invalid' || row.action === 'duplicate') {
        replaceChildren(output, h('div', { class: 'error', role: 'alert' }, `${user.name}: ${row?.problems.join('; ') || 'not valid'}`));
        return;
      }
      await create(body);
      if (!output.querySelector('.error')) form.reset();
    } catch (err) {
      replaceChildren(output, errorBox(err));
    }
  });
  return form;
}

function rosterForm(api: Api, output: HTMLElement, create: (b: AccountsBody) => Promise<void>): HTMLElement {
  const file = h('input', { type: 'file', id: 'roster-file', accept: '.csv,text/csv,text/plain' });
  const csv = h('textarea', { id: 'roster-csv', rows: 10, spellcheck: 'false', placeholder: SAMPLE });
  const previewButton = h('button', { type: 'button', id: 'preview-roster' }, 'Preview');
  const createButton = h('button', { type: 'button', id: 'create-roster', hidden: true }, 'Create accounts');
  const previewArea = h('div', { id: 'roster-preview' });
  let previewed: string | null = null;

  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (!f) return;
    const reader = new FileReader();
    reader.onload = () => {
      csv.value = String(reader.result ?? '');
      csv.dispatchEvent(new Event('input'));
    };
    reader.onerror = () => replaceChildren(previewArea, h('div', { class: 'error' }, `Could not read ${f.name}.`));
    reader.readAsText(f);
  });
  csv.addEventListener('input', () => {
    if (previewed === null) return;
    previewed = null;
    createButton.hidden = true;
    previewArea.prepend(h('p', { class: 'notice' }, 'The roster changed: preview it again.'));
  });
  previewButton.addEventListener('click', async () => {
    const text = csv.value;
    createButton.hidden = true;
    if (!text.trim()) return replaceChildren(previewArea, h('div', { class: 'error' }, 'Paste a roster or choose a CSV file first.'));
    previewButton.disabled = true;
    try {
      const p = await api.previewAccounts({ csv: text });
      previewed = text;
      const n = p.summary.create + p.summary.exists;
      createButton.textContent = `Create ${n} account${n === 1 ? '' : 's'}`;
      createButton.hidden = n === 0;
      replaceChildren(
        previewArea,
        h('div', { class: 'preview-head' }, h('p', { id: 'preview-summary' }, summaryText(p), p.summary.invalid + p.summary.duplicate ? ' Invalid and duplicate rows are left out.' : ''), createButton),
        p.summary.exists ? h('p', { class: 'muted small' }, 'Existing accounts keep their password; they are added to the class and to the hub.') : null,
        h('div', { class: 'table-wrap' }, previewTable(p)),
      );
      previewArea.scrollIntoView({ block: 'start' });
    } catch (err) {
      replaceChildren(previewArea, errorBox(err));
    } finally {
      previewButton.disabled = false;
    }
  });
  createButton.addEventListener('click', async () => {
    if (previewed === null) return;
    createButton.disabled = true;
    await create({ csv: previewed });
    previewArea.replaceChildren();
    createButton.disabled = false;
    createButton.hidden = true;
    previewed = null;
  });
  return h(
    'section',
    { class: 'card', id: 'roster' },
    h('h2', null, 'Import a class roster'),
    h(
      'p',
      { class: 'muted small' },
      'One student per line: ',
      h('code', null, 'name, full name, class, password'),
      '. Full name and password may be empty (a password is then generated). A header line and lines starting with # are skipped.',
    ),
    h('div', { class: 'field' }, h('label', { for: file.id }, 'CSV file'), file),
    h('div', { class: 'field' }, h('label', { for: csv.id }, 'Roster'), csv),
    h('div', { class: 'buttons' }, previewButton),
    previewArea,
  );
}
