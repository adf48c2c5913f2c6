'use strict';
// The admin page: progress tables, refreshed every few seconds, and releasing a judge's open items. Names come from
// users, so text only.

const token = new URLSearchParams(location.search).get('token') ?? '';

function api(path, init = {}) {
  return fetch(path, { ...init, headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
}

// Cells are text or numbers; a node (a button) goes in as it is.
function fill(tableId, rows) {
  document.querySelector(`#${tableId} tbody`).replaceChildren(...rows.map(cells => {
    const tr = document.createElement('tr');
    for (const cell of cells) {
      const td = document.createElement('td');
      if (cell instanceof Node) td.append(cell); else td.textContent = String(cell);
      if (typeof cell === 'number') td.className = 'number';
      tr.append(td);
    }
    return tr;
  }));
}

function releaseButton(annotator) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Release';
  button.className = 'release';
  button.dataset.annotator = annotator.name;
  button.disabled = annotator.open === 0;
  button.title = `Hand ${annotator.name}'s open items to other judges now`;
  button.addEventListener('click', () => release(annotator.name, annotator.open));
  return button;
}

async function release(name, open) {
  if (!confirm(`Release ${name}'s ${open} open item(s)? They go back to the pool for other judges.`)) return;
  try {
    const response = await api(`api/admin/annotators/${encodeURIComponent(name)}/release`, { method: 'POST' });
    const body = await response.json();
    document.getElementById('status').textContent = response.ok
      ? `Released ${body.released} item(s) of ${name}.` : `Could not release (${body.error ?? `error ${response.status}`})`;
  } catch (e) {
    document.getElementById('status').textContent = `Could not release (${e.message})`;
  }
  await refresh(false);
}

async function refresh(stamp = true) {
  try {
    const response = await api('api/admin/progress');
    if (!response.ok) throw new Error(`error ${response.status}`);
    const p = await response.json();
    document.getElementById('summary').textContent =
      `${p.judgments} judgments of ${p.items.length} items × ${p.per_item}`;
    fill('results', p.results.map(r => [r.model_a, r.model_b, r.wins, r.ties, r.losses]));
    fill('annotators', p.annotators.map(a => [a.name, a.is_admin ? 'yes' : '', a.judged, a.open, a.skipped, releaseButton(a)]));
    fill('items', p.items.map(i => [i.item_id, i.judgments, i.open_assignments]));
    if (stamp) document.getElementById('status').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    document.getElementById('status').textContent = `Could not load progress (${e.message})`;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  refresh();
  setInterval(refresh, 10000);
});
