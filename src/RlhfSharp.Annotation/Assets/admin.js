'use strict';
// The admin page: progress tables, refreshed every few seconds. Names come from users, so text only.

const token = new URLSearchParams(location.search).get('token') ?? '';

function fill(tableId, rows) {
  document.querySelector(`#${tableId} tbody`).replaceChildren(...rows.map(cells => {
    const tr = document.createElement('tr');
    for (const cell of cells) {
      const td = document.createElement('td');
      td.textContent = String(cell);
      if (typeof cell === 'number') td.className = 'number';
      tr.append(td);
    }
    return tr;
  }));
}

async function refresh() {
  try {
    const response = await fetch('api/admin/progress', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!response.ok) throw new Error(`error ${response.status}`);
    const p = await response.json();
    document.getElementById('summary').textContent =
      `${p.judgments} judgments of ${p.items.length} items × ${p.per_item}`;
    fill('results', p.results.map(r => [r.model_a, r.model_b, r.wins, r.ties, r.losses]));
    fill('annotators', p.annotators.map(a => [a.name, a.is_admin ? 'yes' : '', a.judged, a.assigned]));
    fill('items', p.items.map(i => [i.item_id, i.judgments, i.open_assignments]));
    document.getElementById('status').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    document.getElementById('status').textContent = `Could not load progress (${e.message})`;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  refresh();
  setInterval(refresh, 10000);
});
