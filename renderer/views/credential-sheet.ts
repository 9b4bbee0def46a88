/**
 * The printable credential sheet after accounts are made: one slip per new student (name, full
 * name, class, where to log in, initial password), a Print button (print CSS in styles.css hides
 * everything else) and a CSV download. The passwords exist only in this page from now on.
 */
import type { CreateRow } from '../api.js';
import { csvLine, download } from '../components/csv.js';
import { h } from '../components/h.js';

export function credentialFilename(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `labhub-credentials-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}.csv`;
}

export function credentialsCsv(rows: readonly CreateRow[], url: string): string {
  const lines = [csvLine(['name', 'full name', 'group', 'url', 'password'])];
  for (const r of rows) lines.push(csvLine([r.name, r.fullName ?? '', r.group ?? '', url, r.password ?? '']));
  return lines.join('\r\n') + '\r\n';
}

export function credentialSheet(rows: readonly CreateRow[]): HTMLElement {
  const url = location.origin;
  const withPassword = rows.filter((r) => r.password);
  const print = h('button', { type: 'button', id: 'print-sheet' }, 'Print slips');
  print.addEventListener('click', () => window.print());
  const save = h('button', { type: 'button', class: 'secondary', id: 'download-credentials' }, 'Download CSV');
  save.addEventListener('click', () => download(credentialFilename(), credentialsCsv(withPassword, url)));
  const slips = withPassword.map((r) =>
    h(
      'article',
      { class: 'slip', dataset: { user: r.name } },
      h('h3', null, r.fullName || r.name),
      h(
        'dl',
        null,
        h('dt', null, 'Go to'),
        h('dd', null, url),
        h('dt', null, 'User name'),
        h('dd', { class: 'mono slip-name' }, r.name),
        h('dt', null, 'Password'),
        h('dd', { class: 'mono slip-password' }, r.password!),
        r.group ? [h('dt', null, 'Class'), h('dd', null, r.group)] : null,
      ),
    ),
  );
  return h(
    'section',
    { class: 'credential-sheet', id: 'credential-sheet', 'aria-labelledby': 'sheet-title' },
    h('div', { class: 'no-print' }, h('h2', { id: 'sheet-title' }, `Credential slips (${withPassword.length})`)),
    h('div', { class: 'notice no-print', role: 'note' }, h('strong', null, 'Passwords are shown only now. '), 'LabHub does not keep them: print the slips or download the CSV before you leave this page.'),
    h('div', { class: 'sheet-actions no-print' }, print, save),
    withPassword.length ? h('div', { class: 'slips' }, slips) : h('p', { class: 'muted' }, 'No new accounts, so no new passwords.'),
  );
}
