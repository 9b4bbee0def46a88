/**
 * xterm.js's DOM renderer writes its theme and cell sizes into `<style>` elements it creates at run
 * time, which the admin page's CSP (`style-src 'self'`, no 'unsafe-inline') blocks, leaving the
 * terminal unstyled (https://github.com/xtermjs/xterm.js/issues/4445). Constructed stylesheets
 * are CSSOM, which CSP allows; so while xterm.js is in use, `document.createElement('style')`
 * hands out an inert, hidden stand-in element whose text is applied as a constructed sheet
 * (`document.adoptedStyleSheets`) instead. The app's own code never creates style elements.
 */

const sheets = new Map<HTMLElement, CSSStyleSheet>();
let installed = false;

function sync(): void {
  const ours = new Set(sheets.values());
  const live: CSSStyleSheet[] = [];
  for (const [el, sheet] of sheets) if (el.isConnected) live.push(sheet);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets.filter((s) => !ours.has(s)), ...live];
}

function update(el: HTMLElement): void {
  try {
    sheets.get(el)?.replaceSync(el.textContent ?? '');
  } catch {
    // a rule the parser rejects is dropped, as it would be in a <style>
  }
  sync();
}

export function mirrorInlineStyles(): void {
  if (installed) return;
  installed = true;
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    if (String(tag).toLowerCase() !== 'style') return create.call(this, tag, options);
    const el = create.call(this, 'labhub-style') as HTMLElement;
    el.hidden = true;
    sheets.set(el, new CSSStyleSheet());
    new MutationObserver(() => update(el)).observe(el, { childList: true, characterData: true, subtree: true });
    const remove = el.remove.bind(el);
    el.remove = () => {
      remove();
      sheets.delete(el);
      sync();
    };
    // created, then inserted in the same task: pick the insertion up right after
    queueMicrotask(sync);
    return el;
  } as typeof Document.prototype.createElement;
}
