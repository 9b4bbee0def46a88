/**
 * The Quotas view's forms: the four limits (disk soft and hard, memory, CPUs) as one reusable set of
 * fields, the defaults form and the add/edit form of a group or user override. Sizes are text
 * ("5G", "500M", "0" = no limit), checked here before sending; the hub checks again and its
 * `problems` are shown under the field they name.
 */
import type { Api, Problem, QuotaKey, QuotaLimits, QuotaOverride, QuotaPatch, QuotaStatus, QuotaWriteResult } from '../api.js';
import { ApiError } from '../api.js';
import { h } from '../components/h.js';
import { errorText, notify } from '../components/notice.js';
import { formatSize, parseSize } from './quotas-size.js';

export const QUOTA_KEYS: readonly QuotaKey[] = ['diskSoft', 'diskHard', 'memory', 'cpus'];

export const QUOTA_LABELS: Record<QuotaKey, string> = { diskSoft: 'Disk soft limit', diskHard: 'Disk hard limit', memory: 'Memory', cpus: 'CPUs' };

const HINTS: Record<QuotaKey, string> = {
  diskSoft: 'Over it the student is warned, e.g. 4G.',
  diskHard: 'Over it the server does not start, e.g. 5G.',
  memory: 'Per server, e.g. 2G.',
  cpus: 'Cores per server, e.g. 1 or 0.5.',
};

const SIZE_MESSAGE = 'A size like 500M or 5G (0 = no limit).';

interface LimitFields {
  element: HTMLElement;
  inputs: Record<QuotaKey, HTMLInputElement>;
  errors: Map<string, HTMLElement>;
  /** Values as the hub takes them; blank fields are `blank` (0 for defaults, null = not set). */
  read(blank: 0 | null): { patch: QuotaPatch; values: Partial<Record<QuotaKey, number | null>>; problems: Problem[] };
  fill(values: QuotaOverride): void;
  /** Shows problems under their fields; returns those that name no field here. */
  showProblems(problems: Problem[]): string[];
}

function limitFields(prefix: string, blankHint: string, extra: { key: string; input: HTMLInputElement; label: string; hint: string }[] = []): LimitFields {
  const errors = new Map<string, HTMLElement>();
  const field = (key: string, label: string, input: HTMLInputElement, hint: string) => {
    const error = h('p', { class: 'field-error', id: `${input.id}-error` });
    errors.set(key, error);
    input.setAttribute('aria-describedby', `${input.id}-hint ${error.id}`);
    return h('div', { class: 'field', dataset: { field: key } }, h('label', { for: input.id }, label), input, h('p', { class: 'muted small', id: `${input.id}-hint` }, hint), error);
  };
  const inputs = Object.fromEntries(
    QUOTA_KEYS.map((k) => [k, h('input', { type: 'text', id: `${prefix}-${k}`, spellcheck: 'false', autocomplete: 'off', inputmode: k === 'cpus' ? 'decimal' : undefined })]),
  ) as Record<QuotaKey, HTMLInputElement>;
  const element = h(
    'div',
    { class: 'form-grid' },
    extra.map((x) => field(x.key, x.label, x.input, x.hint)),
    QUOTA_KEYS.map((k) => field(k, QUOTA_LABELS[k], inputs[k], `${HINTS[k]} ${blankHint}`)),
  );
  const showProblems = (problems: Problem[]): string[] => {
    for (const [key, e] of errors) {
      e.textContent = '';
      const input = inputs[key as QuotaKey] ?? extra.find((x) => x.key === key)?.input;
      input?.removeAttribute('aria-invalid');
    }
    const general: string[] = [];
    for (const p of problems) {
      // the hub may name a field "diskSoft", "limits.diskSoft" or "users.s01.diskSoft"
      const key = p.field.split('.').pop() ?? p.field;
      const e = errors.get(key) ?? (extra.length && ['name', 'user', 'group'].includes(key) ? errors.get(extra[0]!.key) : undefined);
      if (!e) {
        general.push(p.field ? `${p.field}: ${p.message}` : p.message);
        continue;
      }
      e.textContent = e.textContent ? `${e.textContent} ${p.message}` : p.message;
      e.parentElement?.querySelector('input')?.setAttribute('aria-invalid', 'true');
    }
    return general;
  };
  return {
    element,
    inputs,
    errors,
    showProblems,
    fill(values) {
      for (const k of QUOTA_KEYS) {
        const v = values[k];
        inputs[k].value = v === undefined ? '' : k === 'cpus' ? String(v) : formatSize(v);
      }
    },
    read(blank) {
      const patch: QuotaPatch = {};
      const problems: Problem[] = [];
      const bytes: Partial<QuotaLimits> = {};
      const values: Partial<Record<QuotaKey, number | null>> = {};
      for (const k of QUOTA_KEYS) {
        const text = inputs[k].value.trim();
        if (!text) {
          patch[k] = values[k] = blank;
          continue;
        }
        if (k === 'cpus') {
          const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
          if (!Number.isFinite(n) || n > 1024) problems.push({ field: k, message: 'A number of cores like 1 or 0.5 (0 = no limit).' });
          else patch[k] = values[k] = n;
          continue;
        }
        const b = parseSize(text);
        if (b === null) problems.push({ field: k, message: SIZE_MESSAGE });
        else {
          bytes[k] = values[k] = b;
          patch[k] = text;
        }
      }
      if (bytes.diskSoft && bytes.diskHard && bytes.diskSoft > bytes.diskHard) {
        problems.push({ field: 'diskSoft', message: 'The soft limit must not be above the hard limit.' });
      }
      return { patch, values, problems };
    },
  };
}

/** Saved, but kernel quotas (enforced mode) could not be set for some users: say so. */
export function kernelProblems(r: QuotaWriteResult): void {
  if (r.kernelProblems?.length) notify(`Saved, but the kernel quotas could not all be set:\n${r.kernelProblems.join('\n')}`, 'error');
}

function failure(message: HTMLElement, fields: LimitFields, err: unknown): void {
  const general = err instanceof ApiError ? fields.showProblems(err.problems) : [];
  message.replaceChildren(h('div', { class: 'error', role: 'alert' }, err instanceof ApiError ? [err.message, ...general].join('\n') : errorText(err)));
}

/** The defaults form; built once (a poll never interrupts typing), refilled after a save. */
export function quotaDefaultsForm(api: Api, status: QuotaStatus, onSaved: () => void): HTMLElement {
  const fields = limitFields('qd', 'Empty or 0 = no limit.');
  const message = h('div', { id: 'quota-defaults-message', 'aria-live': 'polite' });
  const origin = h('p', { class: 'muted small', id: 'quota-defaults-origin' });
  const save = h('button', { type: 'submit' }, 'Save defaults');
  let current = status.defaults;
  const show = (s: QuotaStatus) => {
    current = s.defaults;
    fields.fill(s.defaults);
    const saved = s.defaultsSaved.filter((k) => (QUOTA_KEYS as readonly string[]).includes(k)).map((k) => QUOTA_LABELS[k as QuotaKey].toLowerCase());
    origin.textContent = !saved.length ? 'All from the config file (or built in); saving here overrides it.' : saved.length === QUOTA_KEYS.length ? 'All saved here (over the config file).' : `Saved here: ${saved.join(', ')}; the rest follow the config file.`;
  };
  const form = h(
    'form',
    { class: 'card', id: 'quota-defaults', novalidate: true },
    h('h2', null, 'Defaults for everyone'),
    origin,
    fields.element,
    h('div', { class: 'buttons' }, save, message),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const r = fields.read(0);
    fields.showProblems(r.problems);
    if (r.problems.length) return;
    // only what changed is sent, so the rest keeps following the config file
    const patch: QuotaPatch = {};
    for (const k of QUOTA_KEYS) if (r.values[k] !== current[k]) patch[k] = r.patch[k];
    if (!Object.keys(patch).length) return void message.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed.'));
    save.disabled = true;
    try {
      kernelProblems(await api.saveQuotaDefaults(patch));
      show(await api.quota());
      onSaved();
      message.replaceChildren(h('p', { class: 'ok-message', role: 'status' }, 'Saved — applied now.'));
    } catch (err) {
      failure(message, fields, err);
    } finally {
      save.disabled = false;
    }
  });
  show(status);
  return form;
}

export interface OverrideForm {
  element: HTMLElement;
  /** Puts an existing override into the form for editing. */
  edit(name: string, values: QuotaOverride): void;
}

/** Add or change the override of one group or user (`kind`); `onSaved` refreshes the tables. */
export function quotaOverrideForm(api: Api, kind: 'groups' | 'users', onSaved: () => void): OverrideForm {
  const prefix = kind === 'groups' ? 'qg' : 'qu';
  const what = kind === 'groups' ? 'group' : 'user';
  const name = h('input', { type: 'text', id: `${prefix}-name`, spellcheck: 'false', autocomplete: 'off', list: kind === 'users' ? 'quota-user-names' : undefined });
  const fields = limitFields(prefix, 'Empty = not overridden.', [
    { key: 'name', input: name, label: kind === 'groups' ? 'Linux group' : 'User', hint: kind === 'groups' ? 'e.g. teachers; the most generous group wins.' : 'A hub user; their own limits beat every group.' },
  ]);
  const message = h('div', { id: `${prefix}-message`, 'aria-live': 'polite' });
  const save = h('button', { type: 'submit' }, `Save ${what} override`);
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear form');
  const form = h(
    'form',
    { id: `quota-${kind}-form`, novalidate: true, class: 'override-form' },
    h('h3', null, `Add or change a ${what}'s limits`),
    fields.element,
    h('div', { class: 'buttons' }, save, clear, message),
  );
  clear.addEventListener('click', () => {
    name.value = '';
    fields.fill({});
    fields.showProblems([]);
    message.replaceChildren();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const r = fields.read(null);
    const n = name.value.trim();
    if (!n) r.problems.push({ field: 'name', message: `The ${what}'s name.` });
    if (!r.problems.length && QUOTA_KEYS.every((k) => r.patch[k] === null)) r.problems.push({ field: 'diskSoft', message: 'Set at least one limit (or remove the override in the table).' });
    fields.showProblems(r.problems);
    if (r.problems.length) return;
    save.disabled = true;
    try {
      kernelProblems(await api.saveQuotaOverride(kind, n, r.patch));
      onSaved();
      message.replaceChildren(h('p', { class: 'ok-message', role: 'status' }, `Saved ${n}'s limits — applied now.`));
    } catch (err) {
      failure(message, fields, err);
    } finally {
      save.disabled = false;
    }
  });
  return {
    element: form,
    edit(n, values) {
      name.value = n;
      fields.fill(values);
      fields.showProblems([]);
      message.replaceChildren();
      form.scrollIntoView({ block: 'nearest' });
      fields.inputs.diskSoft.focus();
    },
  };
}
