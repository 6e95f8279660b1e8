const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Handlebars 4.6+ property access with its default runtime options: own properties only
 * (so `constructor`, `__proto__`, `toString`, `__defineGetter__`... resolve to undefined),
 * except that a prototype object's own `constructor` back-reference is refused too.
 * `{{arr.length}}` and `{{str.length}}` work because `length` is an own property.
 */
export function lookupProperty(parent: unknown, name: unknown): unknown {
  const result = (parent as Record<PropertyKey, unknown>)[name as PropertyKey];
  if (result == null) return result;
  if (
    hasOwn.call(parent, name as PropertyKey) &&
    !(name === "constructor" && typeof result === "function" && parent === (result as { prototype?: unknown }).prototype)
  ) {
    return result;
  }
  return undefined;
}

/** `obj[name]` if it is an own property, else undefined (Handlebars' lookupOwnProperty). */
export function lookupOwn(obj: unknown, name: unknown): unknown {
  if (obj && hasOwn.call(obj, name as PropertyKey)) return (obj as Record<PropertyKey, unknown>)[name as PropertyKey];
  return undefined;
}

/** Handlebars' Utils.extend: copy own enumerable properties (for-in order). */
export function extend(target: Record<string, unknown>, ...sources: unknown[]): Record<string, unknown> {
  for (const src of sources) {
    if (src == null) continue;
    for (const key in src as object) {
      if (hasOwn.call(src, key)) setOwn(target, key, (src as Record<string, unknown>)[key]);
    }
  }
  return target;
}

/** Assign without ever invoking the `__proto__` setter. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Handlebars' createFrame: a copy of the data frame with `_parent` pointing at the original. */
export function createFrame(data: unknown): Record<string, unknown> {
  const frame = extend({}, data);
  frame._parent = data;
  return frame;
}
