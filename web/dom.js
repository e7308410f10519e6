// Building DOM from data without ever parsing it as HTML: every string becomes a text node or
// an attribute value, so names and messages coming from the API cannot inject markup.

/**
 * h('td', { class: 'num', dataset: { field: 'port' } }, 'text', childNode, [more])
 * Attributes are set with setAttribute (event handlers as `onclick` functions); null and
 * false children are skipped so callers can write `cond && node`.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' || key === 'checked') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A coloured status word: good (green), bad (red), warn (amber), or neutral. */
export function pill(text, tone = 'neutral', title) {
  return h('span', { class: `pill ${tone}`, title }, text);
}

const toneOf = {
  up: 'good', healthy: 'good', synced: 'good', active: 'good', 'multi-active': 'good', established: 'good', applied: 'good', true: 'good',
  down: 'bad', degraded: 'bad', absent: 'bad', refused: 'bad', false: 'bad',
  unknown: 'warn', connecting: 'warn', unchecked: 'neutral', disabled: 'neutral', 'not-running': 'neutral', backup: 'neutral',
};

/** A pill coloured by what `state` means in the API's enums, showing `label` (the state itself by default). */
export function statePill(state, title, label = state) {
  return pill(String(label ?? '—'), toneOf[String(state)] ?? 'neutral', title);
}

/** An address and port as one text: an IPv6 address in brackets (`[2001:db8::1]:80`), as in a URL. */
export function endpoint(address, port) {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
