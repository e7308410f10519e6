// Forms built from the API's own OpenAPI document: each kind's component schema gives the
// fields (read-only ones such as status and resourceVersion left out), so the panel follows the
// API as it grows. Strings, integers and enums become inputs and selects, booleans checkboxes,
// lists of scalars a one-per-line textarea, objects with known properties a fieldset, free-form
// objects a JSON textarea. A problem from the API is shown in the form and marks each field its
// `errors[].field` pointer names.

import { h, fill } from './dom.js';

/** A schema with its $ref followed and its allOf parts merged (the outer keywords win). */
function resolve(doc, schema) {
  if (!schema) return {};
  if (schema.$ref) return resolve(doc, schema.$ref.split('/').slice(1).reduce((node, key) => node[key], doc));
  if (!schema.allOf) return schema;
  const { allOf, ...outer } = schema;
  const merged = {};
  for (const part of allOf) {
    const r = resolve(doc, part);
    Object.assign(merged, r, { properties: { ...merged.properties, ...r.properties } });
  }
  return { ...merged, ...outer, properties: { ...merged.properties, ...outer.properties } };
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function equal(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The RFC 7396 merge patch that turns `before` into `after` over the form's keys. */
function mergePatch(before, after, keys) {
  const patch = {};
  for (const key of keys) {
    const a = before?.[key];
    const b = after[key];
    if (b === undefined) {
      if (a !== undefined) patch[key] = null;
    } else if (isObject(a) && isObject(b)) {
      const inner = mergePatch(a, b, new Set([...Object.keys(a), ...Object.keys(b)]));
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (!equal(a, b)) {
      patch[key] = b;
    }
  }
  return patch;
}

class FieldError extends Error {
  constructor(path, message) {
    super(message);
    this.path = path;
  }
}

/**
 * One input for `schema` at `path`; returns { el, read } where read() gives undefined for "not
 * set". `choices` (names of existing objects) are offered as suggestions of a text input.
 */
function field(doc, key, rawSchema, path, value, required, choices) {
  const schema = resolve(doc, rawSchema);
  const id = `f${path.replace(/[^A-Za-z0-9]/g, '-')}`;
  const hint = schema.description ? h('small', { class: 'hint', title: schema.description }, schema.description) : null;
  const wrap = (input, cls = 'field') =>
    h('div', { class: cls, dataset: { path } }, h('label', { for: id }, key, required && h('span', { class: 'req', title: 'required' }, '*')), input, hint);
  const placeholder = schema.default !== undefined && !isObject(schema.default) ? `default ${JSON.stringify(schema.default)}` : undefined;

  if (schema.type === 'object' && schema.properties) {
    const inner = subform(doc, schema, path, value ?? {});
    const set = h('fieldset', { class: 'sub', dataset: { path } }, h('legend', {}, key), hint, inner.el);
    return { el: set, read: () => {
      const v = inner.read();
      return Object.keys(v).length ? v : undefined;
    } };
  }
  if (schema.type === 'object') {
    const input = h('textarea', { id, name: key, rows: 3, placeholder: '{ }', value: value === undefined ? '' : JSON.stringify(value, null, 1) });
    return { el: wrap(input, 'field wide'), read: () => {
      if (!input.value.trim()) return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        throw new FieldError(path, 'is not valid JSON');
      }
    } };
  }
  if (schema.type === 'array') {
    const item = resolve(doc, schema.items);
    const input = h('textarea', { id, name: key, rows: 2, placeholder: `one per line${schema.default ? `; default ${schema.default.join(', ')}` : ''}`, value: (value ?? []).join('\n') });
    return { el: wrap(input, 'field wide'), read: () => {
      const lines = input.value.split('\n').map((l) => l.trim()).filter(Boolean);
      if (!lines.length) return undefined;
      return item.type === 'integer' ? lines.map(Number) : lines;
    } };
  }
  if (schema.enum) {
    const first = required ? 'choose…' : placeholder ? `(${placeholder})` : '(none)';
    const input = h('select', { id, name: key }, h('option', { value: '' }, first), schema.enum.map((v) => h('option', { value: v }, v)));
    input.value = value ?? '';
    return { el: wrap(input), read: () => input.value || undefined };
  }
  if (schema.type === 'boolean') {
    const input = h('input', { id, name: key, type: 'checkbox', checked: value ?? schema.default ?? false });
    return { el: wrap(input, 'field check'), read: () => input.checked };
  }
  const type = schema.type === 'integer' ? 'number' : schema.writeOnly ? 'password' : 'text';
  const input = h('input', { id, name: key, type, placeholder, autocomplete: 'off', value: value ?? '' });
  const suggestions = choices && h('datalist', { id: `${id}-choices` }, choices.map((c) => h('option', { value: c })));
  if (suggestions) {
    input.setAttribute('list', suggestions.id);
    input.placeholder = choices.length ? `e.g. ${choices[0]}` : 'none exists yet';
  }
  if (schema.type === 'integer') {
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
  }
  return { el: wrap([input, suggestions]), read: () => {
    if (input.value === '') return undefined;
    return schema.type === 'integer' ? Number(input.value) : input.value;
  } };
}

/** The writable properties of an object schema as fields; `skip` leaves some out. */
function subform(doc, schema, base, value, skip = new Set(), choices = {}) {
  const fields = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (skip.has(key) || resolve(doc, prop).readOnly) continue;
    fields.push([key, field(doc, key, prop, `${base}/${key}`, value[key], (schema.required ?? []).includes(key), choices[key])]);
  }
  return {
    keys: fields.map(([key]) => key),
    el: h('div', { class: 'fields' }, fields.map(([, f]) => f.el)),
    read: () => {
      const out = {};
      for (const [key, f] of fields) {
        const v = f.read();
        if (v !== undefined) out[key] = v;
      }
      return out;
    },
  };
}

/** Shows a problem in `box` and marks the fields it names inside `form`. */
function showProblem(form, box, error) {
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  const errors = error.fieldErrors ?? (error.path ? [{ path: error.path, message: error.message }] : []);
  const wraps = [...form.querySelectorAll('[data-path]')];
  for (const e of errors) {
    // The deepest field the pointer falls in: /networks/0 marks the networks textarea.
    const target = wraps.filter((w) => e.path === w.dataset.path || e.path?.startsWith(`${w.dataset.path}/`))
      .sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0];
    if (!target) continue;
    target.classList.add('invalid');
    target.append(h('span', { class: 'field-error', role: 'alert' }, `${e.path.slice(1)} ${e.message}`));
  }
  box.hidden = false;
  fill(box,
    h('strong', {}, error.problem?.title ?? 'Not sent'),
    ` ${error.problem?.detail ?? error.message}`,
    errors.length > 0 && h('ul', {}, errors.map((e) => h('li', {}, h('code', {}, e.field ?? e.path), ` ${e.message}`))));
}

/**
 * A form for the component schema `schemaName`, filled from `original` when editing.
 * onSave({ body, patch }) sends it and throws an ApiError to be shown; `fixedName` keeps the
 * name out of the fields (it is in the URL when editing); `choices` maps a field to the names it
 * may refer to.
 */
export function schemaForm({ doc, schemaName, title, original, fixedName = false, choices, onSave, onCancel }) {
  const schema = resolve(doc, doc.components.schemas[schemaName]);
  const inner = subform(doc, schema, '', original ?? {}, new Set(fixedName ? ['name'] : []), choices);
  const box = h('div', { class: 'form-problem', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary' }, original ? 'Save' : 'Create');
  const form = h('form', { class: 'edit', novalidate: true, dataset: { schema: schemaName } },
    h('h3', {}, title),
    inner.el,
    box,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', onclick: onCancel }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const body = inner.read();
      await onSave({ body, patch: mergePatch(original, body, inner.keys) });
    } catch (err) {
      showProblem(form, box, err);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
