/**
 * The Users view's dialogs: reset a password (and show the new one once), add to a class, and
 * remove an account with a choice for the home folder, confirmed by typing the name.
 */
import type { Api, HomeChoice } from '../api.js';
import { confirmDialog, openDialog } from '../components/dialog.js';
import { h } from '../components/h.js';
import { errorText, notify } from '../components/notice.js';

/** Hub group names (hub/api/groups.ts). */
export const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Shows a password the hub will never show again, with a copy button. */
export function showPassword(name: string, password: string): void {
  const value = h('output', { class: 'password', id: 'new-password' }, password);
  const copy = h('button', { type: 'button', class: 'secondary small' }, 'Copy');
  copy.addEventListener('click', () => {
    navigator.clipboard?.writeText(password).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = 'Copy failed: select the text'),
    );
  });
  openDialog(
    `New password for ${name}`,
    [
      h('p', null, 'Give this password to the student. It is shown only now; LabHub does not keep it.'),
      h('p', { class: 'password-line' }, value, ' ', copy),
    ],
    [{ label: 'Done', kind: 'primary' }],
  );
}

export async function resetPassword(api: Api, name: string): Promise<void> {
  const ok = await confirmDialog('Reset password', `Give ${name} a new, generated password? The old one stops working at once.`, 'Reset password');
  if (!ok) return;
  try {
    const r = await api.resetPassword(name);
    showPassword(r.name, r.password);
  } catch (err) {
    notify(`Could not reset ${name}'s password: ${errorText(err)}`, 'error');
  }
}

/** Adds users to a hub group (class), creating the group first when it is new. */
export async function addToGroup(api: Api, names: string[], after: () => void): Promise<void> {
  let groups: string[] = [];
  try {
    groups = (await api.groups()).map((g) => g.name);
  } catch {
    // the field still takes a typed name
  }
  const input = h('input', { type: 'text', id: 'group-name', list: 'group-names', required: true, autocomplete: 'off', pattern: GROUP_NAME.source });
  const problem = h('p', { class: 'field-error', id: 'group-name-error' });
  input.setAttribute('aria-describedby', problem.id);
  const who = names.length === 1 ? names[0]! : `${names.length} users`;
  openDialog(
    `Add ${who} to a class`,
    [
      h('label', { for: input.id }, 'Class (hub group)'),
      input,
      h('datalist', { id: 'group-names' }, groups.map((g) => h('option', { value: g }))),
      h('p', { class: 'muted small' }, 'A new name creates the class.'),
      problem,
    ],
    [
      { label: 'Cancel' },
      {
        label: 'Add',
        kind: 'primary',
        run: async () => {
          const g = input.value.trim();
          if (!GROUP_NAME.test(g)) {
            problem.textContent = 'Use letters, digits, "_", "." and "-" (up to 64).';
            input.focus();
            return false;
          }
          try {
            if (!groups.includes(g)) await api.createGroup(g);
            await api.addToGroup(g, names);
            notify(`Added ${who} to ${g}.`);
            after();
            return true;
          } catch (err) {
            problem.textContent = errorText(err);
            return false;
          }
        },
      },
    ],
  );
  input.focus();
}

const HOME_CHOICES: { value: HomeChoice; label: string; hint: string }[] = [
  { value: 'keep', label: 'Keep the home folder', hint: '/home/<name> stays on disk as it is.' },
  { value: 'archive', label: 'Archive the home folder, then delete it', hint: 'A .tar.gz in the hub data folder keeps everything.' },
  { value: 'delete', label: 'Delete the home folder', hint: 'Their files are gone for good.' },
];

export function removeUser(api: Api, name: string, after: () => void): void {
  const radios = HOME_CHOICES.map((c, i) => {
    const input = h('input', { type: 'radio', name: 'home', value: c.value, id: `home-${c.value}`, checked: i === 1 });
    return h('div', { class: 'radio' }, input, h('label', { for: input.id }, c.label, h('span', { class: 'muted small' }, ` — ${c.hint.replace('<name>', name)}`)));
  });
  const confirm = h('input', { type: 'text', id: 'remove-confirm', autocomplete: 'off', spellcheck: 'false' });
  const problem = h('p', { class: 'field-error' });
  const d = openDialog(
    `Remove ${name}`,
    [
      h('p', null, `This stops ${name}'s server, ends their processes and deletes the Linux account and the hub user.`),
      h('fieldset', null, h('legend', null, 'Home folder'), radios),
      h('label', { for: confirm.id }, 'Type ', h('strong', null, name), ' to confirm'),
      confirm,
      problem,
    ],
    [
      { label: 'Cancel' },
      {
        label: 'Remove',
        name: 'remove',
        kind: 'danger',
        disabled: true,
        run: async () => {
          if (confirm.value !== name) return false;
          const home = (d.element.querySelector('input[name=home]:checked') as HTMLInputElement | null)?.value as HomeChoice;
          try {
            const r = await api.removeAccount(name, home);
            notify(r.archive ? `Removed ${name}; home archived to ${r.archive}.` : `Removed ${name}; home ${r.home}.`);
            after();
            return true;
          } catch (err) {
            problem.textContent = errorText(err);
            return false;
          }
        },
      },
    ],
  );
  const button = d.buttons.get('remove')!;
  confirm.addEventListener('input', () => (button.disabled = confirm.value !== name));
  confirm.focus();
}
