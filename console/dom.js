// A small element builder: h('td', { class: 'num' }, '42'). Attributes starting with "on" are
// listeners; null, undefined and false children are skipped; strings become text nodes (never HTML).

/** @returns {HTMLElement} */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value)
    else if (name === 'dataset') Object.assign(element.dataset, value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  append(element, children)
  return element
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue
    if (Array.isArray(child)) append(element, child)
    else element.append(child instanceof Node ? child : String(child))
  }
}

/** A table: columns as { label, num? } and rows of cells (strings, numbers or nodes). */
export function table(columns, rows, attributes = {}) {
  return h('div', { class: 'table-wrap' }, h('table', attributes,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map(row => h('tr', {}, row.map((cell, i) => h('td', { class: columns[i]?.num ? 'num' : null }, cell)))))))
}

/** The error of a failed load, in place of the content. */
export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error))
}
