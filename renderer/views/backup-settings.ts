/**
 * The Backups view's settings form: on/off, the backup and check schedules (cron, server time),
 * retention, excludes and when a user counts as stale. Only changed fields are sent, so the rest
 * keeps following the config file; the hub's `problems` are shown under the field they name.
 */
import type { Api, BackupSettingsPatch, BackupStatus, Problem } from '../api.js';
import { ApiError } from '../api.js';
import { h } from '../components/h.js';
import { errorText } from '../components/notice.js';

type Key = 'enabled' | 'schedule' | 'checkSchedule' | 'retention.daily' | 'retention.weekly' | 'retention.monthly' | 'staleDays' | 'excludes';

const CRON = /^\s*\S+(\s+\S+){4,5}\s*$/;

function int(v: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

/** Builds the form for `status`; `onSaved` gets the hub's new status after a save. */
export function backupSettingsForm(api: Api, status: BackupStatus, onSaved: (s: BackupStatus) => void): HTMLElement {
  const inputs = {
    enabled: h('input', { type: 'checkbox', id: 'bk-enabled' }),
    schedule: h('input', { type: 'text', id: 'bk-schedule', spellcheck: 'false', autocomplete: 'off' }),
    checkSchedule: h('input', { type: 'text', id: 'bk-checkSchedule', spellcheck: 'false', autocomplete: 'off' }),
    'retention.daily': h('input', { type: 'number', id: 'bk-daily', min: 0, max: 1000, step: 1 }),
    'retention.weekly': h('input', { type: 'number', id: 'bk-weekly', min: 0, max: 1000, step: 1 }),
    'retention.monthly': h('input', { type: 'number', id: 'bk-monthly', min: 0, max: 1000, step: 1 }),
    staleDays: h('input', { type: 'number', id: 'bk-staleDays', min: 1, max: 365, step: 1 }),
  };
  const excludes = h('textarea', { id: 'bk-excludes', rows: 4, spellcheck: 'false' });
  const errors = new Map<Key, HTMLElement>();
  const field = (key: Key, label: string, input: HTMLInputElement | HTMLTextAreaElement, hint: string) => {
    const error = h('p', { class: 'field-error', id: `${input.id}-error` });
    errors.set(key, error);
    input.setAttribute('aria-describedby', `${input.id}-hint ${error.id}`);
    const labelled = key === 'enabled' ? h('div', { class: 'check' }, input, h('label', { for: input.id }, label)) : [h('label', { for: input.id }, label), input];
    return h('div', { class: 'field', dataset: { field: key } }, labelled, h('p', { class: 'muted small', id: `${input.id}-hint` }, hint), error);
  };
  const message = h('div', { id: 'backup-settings-message', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit' }, 'Save');
  let current = status;

  const show = (s: BackupStatus) => {
    current = s;
    inputs.enabled.checked = s.enabled;
    inputs.schedule.value = s.schedule;
    inputs.checkSchedule.value = s.checkSchedule;
    inputs['retention.daily'].value = String(s.retention.daily);
    inputs['retention.weekly'].value = String(s.retention.weekly);
    inputs['retention.monthly'].value = String(s.retention.monthly);
    inputs.staleDays.value = String(s.staleDays);
    excludes.value = s.excludes.join('\n');
  };
  const showProblems = (problems: Problem[]): string[] => {
    for (const e of errors.values()) e.textContent = '';
    const general: string[] = [];
    for (const p of problems) {
      const key = (errors.has(p.field as Key) ? p.field : p.field.split('.')[0]) as Key;
      const e = errors.get(key);
      if (e) e.textContent = e.textContent ? `${e.textContent} ${p.message}` : p.message;
      else general.push(`${p.field}: ${p.message}`);
    }
    return general;
  };

  /** The form's values as a patch of what changed, or the problems found here. */
  const read = (): { patch?: BackupSettingsPatch; problems: Problem[] } => {
    const problems: Problem[] = [];
    const num = (key: Key, min: number, max: number) => {
      const n = int((inputs[key as keyof typeof inputs] as HTMLInputElement).value, min, max);
      if (n === null) problems.push({ field: key, message: `A whole number from ${min} to ${max}.` });
      return n ?? 0;
    };
    for (const key of ['schedule', 'checkSchedule'] as const) {
      if (!CRON.test(inputs[key].value)) problems.push({ field: key, message: 'Five cron fields, e.g. "0 2 * * *" (02:00 every day).' });
    }
    const retention = { daily: num('retention.daily', 0, 1000), weekly: num('retention.weekly', 0, 1000), monthly: num('retention.monthly', 0, 1000) };
    const staleDays = num('staleDays', 1, 365);
    const ex = excludes.value.split('\n').map((l) => l.trim()).filter(Boolean);
    if (problems.length) return { problems };
    const patch: BackupSettingsPatch = {};
    const c = current;
    if (inputs.enabled.checked !== c.enabled) patch.enabled = inputs.enabled.checked;
    if (inputs.schedule.value.trim() !== c.schedule) patch.schedule = inputs.schedule.value.trim();
    if (inputs.checkSchedule.value.trim() !== c.checkSchedule) patch.checkSchedule = inputs.checkSchedule.value.trim();
    if (JSON.stringify(retention) !== JSON.stringify({ daily: c.retention.daily, weekly: c.retention.weekly, monthly: c.retention.monthly })) patch.retention = retention;
    if (staleDays !== c.staleDays) patch.staleDays = staleDays;
    if (JSON.stringify(ex) !== JSON.stringify(c.excludes)) patch.excludes = ex;
    return { patch, problems };
  };

  const form = h(
    'form',
    { class: 'card', id: 'backup-settings', novalidate: true },
    h('h2', null, 'Schedule and retention'),
    h(
      'div',
      { class: 'form-grid' },
      field('enabled', 'Back up on schedule', inputs.enabled, 'Off: no scheduled runs; "Back up now" and restores still work.'),
      field('schedule', 'Backup schedule (cron)', inputs.schedule, 'Server time. "0 2 * * *" = 02:00 every night.'),
      field('checkSchedule', 'Repository check (cron)', inputs.checkSchedule, 'restic check; "30 4 * * 0" = Sundays 04:30.'),
      field('staleDays', 'Warn after (days without a backup)', inputs.staleDays, 'Such users are flagged here and on the dashboard.'),
      field('retention.daily', 'Keep daily', inputs['retention.daily'], 'Snapshots per user, one per day.'),
      field('retention.weekly', 'Keep weekly', inputs['retention.weekly'], 'One per week after that.'),
      field('retention.monthly', 'Keep monthly', inputs['retention.monthly'], 'One per month after that.'),
    ),
    field('excludes', 'Excluded in every home (one pattern a line)', excludes, 'restic patterns, e.g. .cache, __pycache__, *.tmp'),
    h('div', { class: 'buttons' }, save, message),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.replaceChildren();
    const r = read();
    showProblems(r.problems);
    if (!r.patch) return;
    if (!Object.keys(r.patch).length) return void message.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed.'));
    save.disabled = true;
    try {
      const s = await api.saveBackupSettings(r.patch);
      show(s);
      onSaved(s);
      message.replaceChildren(h('p', { class: 'ok-message', role: 'status' }, 'Saved — applied now.'));
    } catch (err) {
      const general = err instanceof ApiError ? showProblems(err.problems) : [];
      message.replaceChildren(h('div', { class: 'error', role: 'alert' }, err instanceof ApiError ? [err.message, ...general].join('\n') : errorText(err)));
    } finally {
      save.disabled = false;
    }
  });
  show(status);
  return form;
}
