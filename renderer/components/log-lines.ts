/**
 * Log lines for people: LabHub's logs are pino JSON lines; each becomes
 * `08:00:01 WARN  message  key=value …` with warn/error lines marked. Anything that is not a
 * JSON object (a student server's own output) is shown as it is.
 */
import { h } from './h.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

export function formatLogLine(line: string): { text: string; level: string; time: string } {
  if (!line.startsWith('{')) return { text: line, level: '', time: '' };
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { text: line, level: '', time: '' };
  }
  const level = LEVELS[Number(j.level)] ?? String(j.level ?? '');
  const t = typeof j.time === 'number' || typeof j.time === 'string' ? new Date(j.time) : null;
  const time = t && !Number.isNaN(t.getTime()) ? t.toLocaleTimeString(undefined, { hour12: false }) : '';
  const fields = Object.entries(j)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return { text: `${level.padEnd(5)} ${String(j.msg ?? '')}${fields.length ? '  ' + fields.join(' ') : ''}`, level: level.toLowerCase(), time };
}

/** The lines as DOM nodes (text only), raw or formatted. */
export function logNodes(lines: readonly string[], raw: boolean): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const line of lines) {
    if (raw) {
      frag.appendChild(document.createTextNode(line + '\n'));
      continue;
    }
    const f = formatLogLine(line);
    const cls = f.level === 'warn' ? 'log-line warn' : f.level === 'error' || f.level === 'fatal' ? 'log-line error' : 'log-line';
    frag.appendChild(h('span', { class: cls }, f.time ? h('span', { class: 'log-time' }, f.time, ' ') : null, f.text, '\n'));
  }
  return frag;
}
