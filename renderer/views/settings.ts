/**
 * Settings changed at run time (GET/PATCH /hub/api/labhub/settings): idle culling, start
 * concurrency, server limit, allowed groups. Checked here first; the hub's own `problems` are shown
 * under the field they name. The idle timeout is edited in minutes and sent in seconds.
 */
import type { Problem, Settings, SettingsAnswer } from '../api.js';
import { ApiError } from '../api.js';
import { h, replaceChildren } from '../components/h.js';
import { errorBox, errorText } from '../components/notice.js';
import type { View } from './view.js';

const LINUX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

type Field = keyof Settings;

interface FieldUi {
  input: HTMLInputElement;
  error: HTMLElement;
  wrap: HTMLElement;
}

function intIn(value: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

/** Reads the form; returns the settings or the problems, in the hub's field names. */
export function readSettings(v: { culler: boolean; idleMinutes: string; concurrency: string; limit: string; groups: string }): { settings?: Settings; problems: Problem[] } {
  const problems: Problem[] = [];
  const minutes = intIn(v.idleMinutes, 1, 10080);
  if (minutes === null) problems.push({ field: 'idleTimeoutSeconds', message: 'Whole minutes from 1 to 10080 (a week).' });
  const concurrency = intIn(v.concurrency, 1, 64);
  if (concurrency === null) problems.push({ field: 'spawnConcurrency', message: 'A whole number from 1 to 64.' });
  const limit = intIn(v.limit, 0, 10000);
  if (limit === null) problems.push({ field: 'activeServerLimit', message: 'A whole number from 0 (no limit) to 10000.' });
  const groups = v.groups.split(',').map((g) => g.trim()).filter(Boolean);
  const bad = groups.filter((g) => !LINUX_NAME.test(g));
  if (bad.length) problems.push({ field: 'allowedGroups', message: `Not a Linux group name: ${bad.join(', ')}` });
  if (problems.length) return { problems };
  return {
    problems,
    settings: { cullerEnabled: v.culler, idleTimeoutSeconds: minutes! * 60, spawnConcurrency: concurrency!, activeServerLimit: limit!, allowedGroups: [...new Set(groups)] },
  };
}

function changed(before: Settings, after: Settings): Partial<Settings> {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(after) as Field[]) {
    // the form shows whole minutes: 90 s shown as 2 min is not a change until edited
    if (key === 'idleTimeoutSeconds' && Math.round(before[key] / 60) * 60 === after[key]) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) patch[key] = after[key];
  }
  return patch as Partial<Settings>;
}

export const settingsView: View = {
  id: 'settings',
  title: 'Settings',
  mount(root, { api }) {
    const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    root.append(h('div', { class: 'view-head' }, h('h1', null, 'Settings')), body);
    let alive = true;
    api.settings().then(
      (a) => alive && replaceChildren(body, form(a)),
      (err) => alive && replaceChildren(body, errorBox(err)),
    );

    function form(answer: SettingsAnswer): HTMLElement {
      const culler = h('input', { type: 'checkbox', id: 'set-culler' });
      const fields: Record<Field, FieldUi> = {} as Record<Field, FieldUi>;
      const mk = (key: Field, label: string, input: HTMLInputElement, hint: string) => {
        input.id = `set-${key}`;
        const error = h('p', { class: 'field-error', id: `${input.id}-error` });
        input.setAttribute('aria-describedby', `${input.id}-hint ${error.id}`);
        const wrap = h('div', { class: 'field', dataset: { field: key } }, key === 'cullerEnabled' ? h('div', { class: 'check' }, input, h('label', { for: input.id }, label)) : [h('label', { for: input.id }, label), input], h('p', { class: 'muted small', id: `${input.id}-hint` }, hint), h('p', { class: 'saved-note muted small' }), error);
        fields[key] = { input, error, wrap };
        return wrap;
      };
      const idle = h('input', { type: 'number', min: 1, max: 10080, step: 1, inputmode: 'numeric' });
      const concurrency = h('input', { type: 'number', min: 1, max: 64, step: 1, inputmode: 'numeric' });
      const limit = h('input', { type: 'number', min: 0, max: 10000, step: 1, inputmode: 'numeric' });
      const groups = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. students, cs101' });
      const message = h('div', { id: 'settings-message', 'aria-live': 'polite' });
      const save = h('button', { type: 'submit' }, 'Save');

      let current = answer.settings;
      const show = (a: SettingsAnswer) => {
        const s = a.settings;
        current = s;
        culler.checked = s.cullerEnabled;
        idle.value = String(Math.round(s.idleTimeoutSeconds / 60));
        concurrency.value = String(s.spawnConcurrency);
        limit.value = String(s.activeServerLimit);
        groups.value = s.allowedGroups.join(', ');
        idle.disabled = !s.cullerEnabled;
        for (const [key, f] of Object.entries(fields) as [Field, FieldUi][]) {
          f.wrap.querySelector('.saved-note')!.textContent = a.saved.includes(key) ? 'Set here (overrides the config file).' : '';
        }
      };
      const showProblems = (problems: Problem[]) => {
        for (const f of Object.values(fields)) {
          f.error.textContent = '';
          f.input.removeAttribute('aria-invalid');
        }
        const general: string[] = [];
        for (const p of problems) {
          const f = fields[p.field as Field];
          if (!f) {
            general.push(`${p.field}: ${p.message}`);
            continue;
          }
          f.error.textContent = f.error.textContent ? `${f.error.textContent} ${p.message}` : p.message;
          f.input.setAttribute('aria-invalid', 'true');
        }
        const first = problems.map((p) => fields[p.field as Field]).find(Boolean);
        first?.input.focus();
        return general;
      };

      culler.addEventListener('change', () => (idle.disabled = !culler.checked));
      const el = h(
        'form',
        { class: 'card settings', id: 'settings-form', novalidate: true },
        h(
          'div',
          { class: 'settings-sections' },
          h(
            'section',
            null,
            h('h2', null, 'Idle servers'),
            mk('cullerEnabled', 'Stop servers nobody is using', culler, 'Frees memory for the students who are working. Files are never touched.'),
            mk('idleTimeoutSeconds', 'Idle time before stopping (minutes)', idle, 'A server with no activity for this long is stopped.'),
            h('h2', null, 'Who may log in'),
            mk('allowedGroups', 'Allowed Linux groups', groups, 'Comma separated. Empty: every normal account may log in. Admins always may.'),
          ),
          h(
            'section',
            null,
            h('h2', null, 'Starting servers'),
            mk('spawnConcurrency', 'Servers starting at once', concurrency, 'During a class start the others wait in a fair queue. About one per CPU core plus one.'),
            mk('activeServerLimit', 'Most servers at once (0 = no limit)', limit, 'Beyond it a start is refused with a message to try again later.'),
          ),
        ),
        h('div', { class: 'buttons' }, save, message),
      );
      el.addEventListener('submit', async (e) => {
        e.preventDefault();
        message.replaceChildren();
        const r = readSettings({ culler: culler.checked, idleMinutes: idle.value, concurrency: concurrency.value, limit: limit.value, groups: groups.value });
        showProblems(r.problems);
        if (!r.settings) return;
        // send only what changed, so untouched settings keep following the config file
        const patch = changed(current, r.settings);
        if (!Object.keys(patch).length) return void message.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed.'));
        save.disabled = true;
        try {
          const a = await api.saveSettings(patch);
          show(a);
          message.replaceChildren(h('p', { class: 'ok-message', role: 'status' }, 'Saved — applied now.'));
        } catch (err) {
          const general = err instanceof ApiError ? showProblems(err.problems) : [];
          message.replaceChildren(h('div', { class: 'error', role: 'alert' }, err instanceof ApiError ? [err.message, ...general].join('\n') : errorText(err)));
        } finally {
          save.disabled = false;
        }
      });
      show(answer);
      return el;
    }
    return () => {
      alive = false;
    };
  },
};
