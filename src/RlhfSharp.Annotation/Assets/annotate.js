'use strict';
// The judging page. Model text is untrusted: it is only ever inserted with textContent. The guidelines are the one
// exception: the organiser's Markdown, rendered by the server with raw HTML escaped and only http(s) links kept.

const token = new URLSearchParams(location.search).get('token') ?? '';
const $ = id => document.getElementById(id);
let current = null;      // the item on screen
let submissionId = null; // one per item view: a retry or double click stores one judgment
let busy = false;
let undoable = null;     // { judgmentId, timer } while the last judgment can still be taken back
let judgedOnce = false;

function newSubmissionId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on a LAN host is not one.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
}

function api(path, init = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (init.body) headers['Content-Type'] = 'application/json';
  return fetch(path, { ...init, headers, cache: 'no-store' });
}

function setStatus(text) { $('status').textContent = text; }

function setBusy(value) {
  busy = value;
  for (const id of ['choose-left', 'choose-tie', 'choose-right', 'skip', 'undo']) $(id).disabled = value;
}

const sideNames = { left: 'Left better', tie: 'Tie', right: 'Right better' };

// The last judgment is saved: say so, and offer Undo while the server still allows it.
function showSaved(choice, judgmentId, undoSeconds) {
  endUndo();
  $('saved').textContent = `Saved: ${sideNames[choice]}.`;
  if (!(undoSeconds > 0)) return;
  undoable = { judgmentId, timer: setTimeout(endUndo, undoSeconds * 1000) };
  $('undo').hidden = false;
}

function endUndo() {
  if (undoable) clearTimeout(undoable.timer);
  undoable = null;
  $('undo').hidden = true;
}

function showGuidelines(visible) {
  $('guidelines').hidden = !visible;
  $('show-guidelines').setAttribute('aria-expanded', String(visible));
}

async function loadGuidelines() {
  try {
    const response = await api('api/guidelines');
    if (!response.ok) return;
    const { html } = await response.json();
    if (!html) return;
    $('guidelines-text').innerHTML = html; // rendered safely by the server (see the top of this file)
    for (const link of $('guidelines-text').querySelectorAll('a')) { link.target = '_blank'; link.rel = 'noopener noreferrer'; }
    $('show-guidelines').hidden = false;
    showGuidelines(!judgedOnce); // above the first item; after that, on demand
  } catch {
    // The guidelines are a help, not a condition for judging.
  }
}

function showTurns(turns) {
  $('prompt').replaceChildren(...turns.map(turn => {
    const block = document.createElement('div');
    block.className = `turn ${turn.speaker.toLowerCase()}`;
    const speaker = document.createElement('div');
    speaker.className = 'speaker';
    speaker.textContent = turn.speaker;
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = turn.text;
    block.append(speaker, text);
    return block;
  }));
}

// N: items this judge has judged; M: those plus every item they can still be given (open to them or free).
function showProgress(progress) {
  $('progress').textContent = `your ${progress.judged} of ${progress.total}`;
}

function showWork(visible) {
  $('work').hidden = !visible;
  $('choices').hidden = !visible;
  $('done').hidden = visible;
}

async function loadNext() {
  setBusy(true);
  try {
    const response = await api('api/next');
    if (response.status === 204) {
      current = null;
      showWork(false);
      $('progress').textContent = 'all done';
      return;
    }
    if (!response.ok) { setStatus(await errorOf(response)); return; }
    current = await response.json();
    submissionId = newSubmissionId();
    showTurns(current.turns);
    // HH responses start with the space after "Assistant:"; it is not part of what the judge reads.
    $('left').textContent = current.left.trimStart();
    $('right').textContent = current.right.trimStart();
    $('note').value = '';
    $('criterion').value = ''; // each item's criterion is the judge's fresh choice, never the last item's
    showProgress(current.progress);
    showWork(true);
    window.scrollTo(0, 0);
  } catch (e) {
    setStatus(`Could not load the next item (${e.message}); reload to retry.`);
  } finally {
    setBusy(false);
  }
}

async function errorOf(response) {
  try { return (await response.json()).error ?? `error ${response.status}`; } catch { return `error ${response.status}`; }
}

async function choose(choice) {
  if (!current || busy) return;
  setBusy(true);
  const body = JSON.stringify({
    item_id: current.item_id, choice, criterion: $('criterion').value || null,
    note: $('note').value.trim() || null, submission_id: submissionId,
  });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await api('api/judgments', { method: 'POST', body });
        if (response.ok || response.status === 409 || response.status === 403) {
          if (response.ok) {
            const saved = await response.json();
            if (!saved.repeated) showSaved(choice, saved.judgment_id, saved.undo_seconds);
            judgedOnce = true;
            showGuidelines(false);
          }
          setStatus(response.ok ? '' : response.status === 409 ? 'You had already judged that item; here is the next one.'
            : 'That item went back to the pool (it was open too long) and another judge may have it; here is the next one.');
          busy = false;
          await loadNext();
          return;
        }
        setStatus(await errorOf(response));
        return;
      } catch (e) {
        // The same submission_id is sent again, so a retry cannot store a second judgment.
        if (attempt === 3) { setStatus(`Could not send your judgment (${e.message}); press the button again.`); return; }
        await new Promise(resolve => setTimeout(resolve, 500 * attempt));
      }
    }
  } finally {
    if (busy) setBusy(false);
  }
}

// The item goes back to the pool for another judge; the server records the skip and never offers it to this judge again.
async function skip() {
  if (!current || busy) return;
  setBusy(true);
  try {
    const response = await api(`api/items/${current.item_id}/skip`, { method: 'POST' });
    // 403: the lease ran out and the item is no longer ours; either way, move on.
    if (!response.ok && response.status !== 403) { setStatus(await errorOf(response)); return; }
    setStatus('');
    busy = false;
    await loadNext();
  } catch (e) {
    setStatus(`Could not skip (${e.message}); press Skip again.`);
  } finally {
    if (busy) setBusy(false);
  }
}

// The last judgment is taken back; its item comes back first from api/next.
async function undo() {
  if (!undoable || busy) return;
  const { judgmentId } = undoable;
  setBusy(true);
  try {
    const response = await api(`api/judgments/${judgmentId}/undo`, { method: 'POST' });
    endUndo();
    if (!response.ok) { $('saved').textContent = await errorOf(response); return; }
    $('saved').textContent = 'Undone: judge the item again.';
    setStatus('');
    busy = false;
    await loadNext();
  } catch (e) {
    setStatus(`Could not undo (${e.message}); press Undo again.`);
  } finally {
    if (busy) setBusy(false);
  }
}

const keys = { '1': 'left', ArrowLeft: 'left', '2': 'tie', ArrowDown: 'tie', t: 'tie', '3': 'right', ArrowRight: 'right' };

// A held key's repeats, like the second click of a double click, would judge the next item unseen.
document.addEventListener('keydown', event => {
  if (event.repeat || event.target.closest?.('textarea, select, input') || event.ctrlKey || event.metaKey || event.altKey) return;
  const choice = keys[event.key];
  if (!choice) return;
  event.preventDefault();
  choose(choice);
});

document.addEventListener('DOMContentLoaded', () => {
  for (const choice of ['left', 'tie', 'right']) {
    // detail counts the clicks of a double click; a button pressed from the keyboard has 0.
    $(`choose-${choice}`).addEventListener('click', event => { if (event.detail <= 1) choose(choice); });
  }
  $('skip').addEventListener('click', event => { if (event.detail <= 1) skip(); });
  $('undo').addEventListener('click', event => { if (event.detail <= 1) undo(); });
  $('show-guidelines').addEventListener('click', () => showGuidelines($('guidelines').hidden));
  $('hide-guidelines').addEventListener('click', () => showGuidelines(false));
  loadGuidelines();
  loadNext();
});
