// DOM helpers for every page. Pages are built with `h()` from text nodes, never from HTML strings, so
// nothing a PBX or a user typed can run as markup.

/** An element with attributes (`on*` ones as listeners) and children (strings become text; arrays nest). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** A short message in the corner, read out by screen readers. */
export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  setTimeout(() => (box.textContent === message ? (box.textContent = "") : null), 4000);
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

/** A value as indented JSON, for `<pre>` blocks. */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A status pill; `kind` picks its colour (on, off, good, bad, wait). */
export function badge(text, kind = text) {
  return h("span", { class: `badge ${kind}` }, text);
}

/** A table with a header row; `columns` name the `col-*` classes that size them (no inline styles). */
export function table(attrs, columns, headings, rows) {
  return h(
    "table",
    attrs,
    h("colgroup", {}, columns.map((name) => h("col", { class: `col-${name}` }))),
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

/** The value of a form control: checkbox as boolean, number inputs as numbers (undefined when empty). */
export function valueOf(input) {
  if (input.type === "checkbox") return input.checked;
  if (input.type === "number") return input.value === "" ? undefined : Number(input.value);
  return input.value;
}

let uniqueIds = 0;
/** A fresh id for pairing labels with controls. */
export function newId(prefix) {
  uniqueIds += 1;
  return `${prefix}-${uniqueIds}`;
}

/** "Load more" under a paged list: `load(cursor)` appends the next page and returns the cursor after it. */
export function moreButton(cursor, load) {
  const holder = h("p", {});
  const offer = (next) =>
    holder.replaceChildren(...(next ? [h("button", { type: "button", onclick: async () => offer(await load(next)) }, "Load more")] : []));
  offer(cursor);
  return holder;
}

/**
 * Makes `target` look like `source` in place, keeping every node that did not change, and so the focus,
 * text selection and listeners in it (a kept element keeps its own listeners, not `source`'s).
 */
export function morph(target, source) {
  if (target.nodeType !== source.nodeType || target.nodeName !== source.nodeName) return target.replaceWith(source);
  if (target.nodeType !== Node.ELEMENT_NODE) {
    if (target.nodeValue !== source.nodeValue) target.nodeValue = source.nodeValue;
    return;
  }
  if (!sameAttributes(target, source)) {
    for (const { name } of [...target.attributes]) if (!source.hasAttribute(name)) target.removeAttribute(name);
    for (const { name, value } of source.attributes) if (target.getAttribute(name) !== value) target.setAttribute(name, value);
  }
  const fresh = [...source.childNodes];
  const old = [...target.childNodes];
  fresh.forEach((child, i) => (old[i] ? morph(old[i], child) : target.append(child)));
  for (const extra of old.slice(fresh.length)) extra.remove();
}

function sameAttributes(a, b) {
  return a.attributes.length === b.attributes.length && [...b.attributes].every(({ name, value }) => a.getAttribute(name) === value);
}

/**
 * A list that follows its filter in place: `choose(name, value)` redraws only the results (what `load(filter)`
 * returns) and keeps the filter in the address, so focus stays on the filter and arrow keys can go through
 * its options. A screen reader hears the count.
 */
export function filteredResults(filter, { address, load, count }) {
  const results = h("div", { class: "results" });
  const status = h("p", { class: "muted count", role: "status" });
  let sequence = 0;
  const show = async () => {
    const mine = ++sequence;
    const { nodes, shown, more } = await load(filter);
    if (mine !== sequence) return; // a later choice answered first
    results.replaceChildren(...nodes);
    status.textContent = count(shown, more);
  };
  const choose = (name, value) => {
    filter[name] = value;
    history.replaceState(null, "", address(filter));
    show().catch((error) => toast(error.message));
  };
  return { results, status, show, choose };
}
