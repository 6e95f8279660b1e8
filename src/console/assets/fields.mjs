// Form building blocks for the webhook form: plain controls, labelled controls, checkbox groups, rows of
// name -> value, and the error line under each one, found by the API's field path (`params.phone`,
// `preset_config.client_id`).

import { h, newId } from "./dom.mjs";

/** A drop-down of `options`, each shown as its label in `labels` if it has one. */
export const select = (options, labels = {}) => h("select", {}, options.map((value) => h("option", { value }, labels[value] ?? value)));
/** A text input that does not spell-check (names, URLs, code). */
export const text = (attrs = {}) => h("input", { spellcheck: "false", ...attrs });
/** A whole-number input from `min` to `max`. */
export const number = (min, max) => h("input", { type: "number", min, max, step: 1, inputmode: "numeric" });

/**
 * Error lines by field path. Two layers of problems share them: what the last save was refused for
 * (`save`, kept until the user changes that field) and what the live preview finds (`live`, replaced on
 * each preview, and shown only on fields the user has been to).
 */
export class FieldErrors {
  constructor() {
    this.resolvers = new Map(); // path -> [resolve(tail) -> line]
    this.lines = new Set();
    this.touched = new Set();
  }

  /** A fresh error line for `control` (linked to it for screen readers). */
  line(control) {
    return { el: h("p", { class: "field-error", id: newId("error") }), control, save: "", live: "" };
  }

  /** Registers the line of the field `path`; `resolve(tail)` picks a finer line for `path.tail` when it can. */
  add(path, line, resolve = () => null) {
    const resolvers = this.resolvers.get(path) ?? [];
    resolvers.push((rest) => (rest ? resolve(rest) ?? line : line));
    this.resolvers.set(path, resolvers);
    return line.el;
  }

  /** Notes a control the user changed: its save problems are answered, and live ones may now show. */
  touch(control) {
    this.touched.add(control);
    for (const line of this.lines) if (this.contains(line, control)) line.save = "";
    this.lines.forEach((line) => this.paint(line));
  }

  contains(line, control) {
    return Boolean(line.el.parentElement?.contains(control));
  }

  /** Clears one layer everywhere. */
  clear(layer) {
    for (const line of this.lines) {
      line[layer] = "";
      this.paint(line);
    }
  }

  /** Shows each problem on its field, in `layer`; returns the problems no field claimed. */
  show(problems, layer) {
    const unplaced = [];
    for (const problem of problems) {
      const line = this.lineOf(problem.field);
      if (!line) {
        unplaced.push(problem);
        continue;
      }
      if (layer === "live" && ![...this.touched].some((control) => this.contains(line, control))) continue;
      line[layer] = line[layer] ? `${line[layer]} ${problem.message}` : problem.message;
      this.lines.add(line);
      this.paint(line);
    }
    return unplaced;
  }

  paint(line) {
    const text = [...new Set([line.save, line.live].filter(Boolean))].join(" ");
    if (line.painted === text) return; // unchanged: keep its button, which may be mid-click
    line.painted = text;
    line.el.textContent = text;
    const at = line.control?.tagName === "TEXTAREA" && /line (\d+), column (\d+)/.exec(text);
    if (at) {
      const go = () => selectPosition(line.control, Number(at[1]), Number(at[2]));
      line.el.append(" ", h("button", { type: "button", class: "link", onclick: go }, `Go to line ${at[1]}`));
    }
    if (!line.control) return;
    if (text) {
      line.control.setAttribute("aria-invalid", "true");
      line.control.setAttribute("aria-describedby", line.el.id);
    } else line.control.removeAttribute("aria-invalid");
  }

  /**
   * The line of the longest registered path that `field` starts with (`params` for `params.phone`); of
   * several fields under one path (the parameter map and the expression are both `params`), the one shown.
   */
  lineOf(field) {
    const parts = field.split(".");
    for (let length = parts.length; length > 0; length -= 1) {
      const resolvers = this.resolvers.get(parts.slice(0, length).join("."));
      if (!resolvers) continue;
      const lines = resolvers.map((resolve) => resolve(parts.slice(length).join(".")));
      return lines.find((line) => line.el.isConnected && !line.el.closest("[hidden]")) ?? lines[0];
    }
    return null;
  }

  /** Moves focus to the first field (in page order) showing an error, so that a keyboard user lands on it. */
  focusFirst() {
    const controls = [...this.lines].filter((line) => line.el.textContent && line.control).map((line) => line.control);
    controls.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0]?.focus();
  }
}

/** Puts the cursor of a textarea at a template error's line and column, selecting the rest of that line. */
function selectPosition(textarea, lineNumber, column) {
  const lines = textarea.value.split("\n");
  const start = lines.slice(0, lineNumber - 1).reduce((sum, text) => sum + text.length + 1, 0);
  const lineText = lines[lineNumber - 1] ?? "";
  textarea.focus();
  textarea.setSelectionRange(start + Math.min(Math.max(column - 1, 0), lineText.length), start + lineText.length);
}

/** A label above a control, an optional hint, and the field's error line. */
export function labelled(label, control, { hint, errors, path } = {}) {
  control.id ||= newId("field");
  const line = errors?.line(control);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    hint ? h("p", { class: "hint" }, hint) : null,
    control,
    line ? errors.add(path, line) : null,
  );
}

/** Checkboxes for a set of values; `checked()` reads the ticked ones, `set(values)` ticks them. */
export function checkboxGroup(legend, options, { hint, errors, path, name }) {
  const boxes = options.map(([value, label]) => ({ value, box: h("input", { type: "checkbox", name, value }) }));
  const fieldset = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    h("div", { class: "options" }, boxes.map(({ box }, i) => h("label", { class: "inline" }, box, options[i][1]))),
  );
  const line = errors.line(boxes[0]?.box);
  fieldset.append(errors.add(path, line));
  return {
    element: fieldset,
    checked: () => boxes.filter(({ box }) => box.checked).map(({ value }) => value),
    set: (values) => boxes.forEach(({ value, box }) => (box.checked = values.includes(value))),
  };
}

/**
 * Rows of name -> value (headers, the parameter map) with add and remove buttons. `pairs()` reads the rows
 * that have a name; an error for `path.<name>` shows under that row.
 */
export function pairEditor({ id, legend, hint, names, values, add, errors, path, valueList }) {
  const rows = h("div", { class: "pairs" });
  const lines = new Map();
  const addRow = (name = "", value = "") => {
    const nameInput = h("input", { class: "pair-name mono", "aria-label": names, placeholder: names, spellcheck: "false" });
    nameInput.value = name;
    const valueInput = h("input", { class: "pair-value mono", "aria-label": values, placeholder: values, list: valueList, spellcheck: "false" });
    valueInput.value = value;
    const line = errors.line(valueInput);
    lines.set(line, nameInput);
    const row = h(
      "div",
      { class: "pair" },
      nameInput,
      valueInput,
      h("button", { type: "button", class: "remove", "aria-label": `Remove ${names.toLowerCase()} row`, onclick: () => remove(row, line) }, "Remove"),
      line.el,
    );
    rows.append(row);
    return nameInput;
  };
  const remove = (row, line) => {
    lines.delete(line);
    row.remove();
    rows.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const element = h(
    "fieldset",
    { class: "pair-editor", id },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    rows,
    h("button", { type: "button", onclick: () => addRow().focus() }, add),
  );
  const general = errors.line(null);
  element.append(
    errors.add(path, general, (name) => [...lines].find(([, input]) => input.value.trim() === name)?.[0] ?? null),
  );
  return {
    element,
    pairs: () =>
      Object.fromEntries(
        [...rows.querySelectorAll(".pair")]
          .map((row) => [row.querySelector(".pair-name").value.trim(), row.querySelector(".pair-value").value])
          .filter(([name]) => name),
      ),
    set(record) {
      rows.replaceChildren();
      lines.clear();
      for (const [name, value] of Object.entries(record ?? {})) addRow(name, value);
    },
    addRow,
  };
}
