/** Tiny `--name value` / `--flag` parser for the bench scripts. */
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option ${a}; options: ${Object.keys(defaults).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(' ')}`);
    if (typeof defaults[key] === 'boolean') out[key] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      out[key] = typeof defaults[key] === 'number' ? Number(v) : v;
    }
  }
  return out;
}

/** `--systems labhub,jupyterhub` → a Set. */
export function systemsOf(value) {
  const s = new Set(String(value).split(',').map((x) => x.trim()).filter(Boolean));
  for (const x of s) if (!['labhub', 'jupyterhub'].includes(x)) throw new Error(`unknown system ${x} (labhub, jupyterhub)`);
  return s;
}
