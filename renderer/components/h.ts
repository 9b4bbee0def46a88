/**
 * `h(tag, attrs, ...children)`: builds DOM nodes without HTML strings. Strings become text nodes,
 * so data from the API can never turn into markup (no innerHTML anywhere in the renderer).
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Listener = (event: any) => void;
export type Attrs = {
  class?: string;
  dataset?: Record<string, string>;
  [name: string]: string | number | boolean | null | undefined | Listener | Record<string, string>;
};

/** Properties that must be set on the element, not as attributes, to take effect after creation. */
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'indeterminate']);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
      else if (PROPS.has(key)) (el as unknown as Record<string, unknown>)[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened, empty values skipped). */
export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Sets an element's text only when it changed (keeps live-refreshing tables cheap). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
