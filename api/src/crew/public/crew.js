// The crew page: plain browser JavaScript, no build step, no third-party code.
// Data is written with textContent only, never as HTML, so nothing an alert
// carries can run as script. The key stays in this browser (localStorage) and
// goes only to this API, in the Authorization header.
'use strict';

const KEY_STORAGE = 'suido.crew.key';
const ACTIVE_STATES = ['open', 'acknowledged', 'cleared'];
const POLL_MS = 30_000;
const MAX_PAGES = 10;
const KIND_NAMES = {
  leak: 'Leak',
  correlated_leak: 'Leak between two sensors',
  continuous_flow: 'Continuous flow',
  reverse_flow: 'Reverse flow',
  tamper: 'Tamper',
  burst: 'Burst',
  stuck_meter: 'Stuck meter',
};

const $ = (id) => document.getElementById(id);
let pollTimer;

class ApiRefusal extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.current = body && body.current;
  }
}

async function api(path, options = {}) {
  const headers = { accept: 'application/json', authorization: `Bearer ${localStorage.getItem(KEY_STORAGE)}`, ...options.headers };
  const response = await fetch(path, { ...options, headers, cache: 'no-store' });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : undefined;
  if (!response.ok) throw new ApiRefusal(response.status, body);
  return body;
}

function showMessage(text, isError) {
  const el = $('message');
  el.textContent = text;
  el.className = isError ? 'error' : '';
  el.hidden = !text;
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

function where(alert) {
  const s = alert.source;
  if (!s) return 'not in the registry';
  const parts = [];
  const d = alert.details || {};
  // A correlator's pair places the leak on the main between its two sensors: where to dig, not where the sensor is.
  if (alert.kind === 'correlated_leak' && typeof d.fromFirstM === 'number') {
    const within = typeof d.withinM === 'number' ? ` (± ${d.withinM.toFixed(1)} m)` : '';
    parts.push(`${d.fromFirstM.toFixed(1)} m from ${alert.sourceId} towards ${d.partnerId}${within}`);
  }
  if (s.district) parts.push(s.district);
  if (s.pipeMaterial) parts.push(`${s.pipeMaterial.replace('_', ' ')} main${s.pipeId ? ` ${s.pipeId}` : ''}`);
  // Where along the main: the leak's place for a correlated leak, else the sensor's (the fittings to correlate across are found from it).
  const along = alert.kind === 'correlated_leak' && typeof d.leakChainageM === 'number' ? d.leakChainageM : s.chainageM;
  if (along !== null && along !== undefined) parts.push(`${Math.round(along)} m along it`);
  // A valve's or a pump's steady hiss sounds like a leak: the crew should know one is near.
  if (s.site === 'near_prv') parts.push('near a PRV');
  if (s.site === 'near_pump') parts.push('near a pump station');
  if (s.lat !== null && s.lon !== null) parts.push(`${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`);
  return parts.join(' · ') || 'location unknown';
}

/** The peak in its own unit: a model's score as a percentage, a correlation's peak, a meter rule's litres. */
function scoreText(alert) {
  if (alert.peakScore === null) return '—';
  const d = alert.details || {};
  if (alert.kind === 'correlated_leak') return `peak ${alert.peakScore.toFixed(1)} × the mean (threshold ${d.threshold})`;
  if (alert.kind === 'leak' || typeof d.scoreUnit !== 'string') return `${Math.round(alert.peakScore * 100)} %`;
  return `${alert.peakScore} ${d.scoreUnit.split(',')[0]}`;
}

function render(alerts) {
  const list = $('alerts');
  const template = $('alert-card');
  list.replaceChildren();
  for (const alert of alerts) {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.id = String(alert.id);
    card.dataset.state = alert.state;
    card.querySelector('.kind').textContent = KIND_NAMES[alert.kind] || alert.kind;
    card.querySelector('.source').textContent = alert.sourceId;
    card.querySelector('.state').textContent = alert.state;
    card.querySelector('.where').textContent = where(alert);
    card.querySelector('.since').textContent = formatTime(alert.raisedAt);
    card.querySelector('.last-seen').textContent = formatTime(alert.lastSeenAt);
    card.querySelector('.score').textContent = scoreText(alert);
    card.querySelector('.acked').textContent = alert.acknowledgedBy ? `${alert.acknowledgedBy}, ${formatTime(alert.acknowledgedAt)}` : 'not yet';
    const ack = card.querySelector('button.ack');
    ack.hidden = alert.state !== 'open';
    ack.addEventListener('click', () => act(alert, 'ack', {}, ack));
    const form = card.querySelector('form.resolve');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const note = String(data.get('note') || '').trim();
      act(alert, 'resolve', note ? { resolution: data.get('resolution'), note } : { resolution: data.get('resolution') }, form.querySelector('button'));
    });
    list.append(card);
  }
  $('empty').hidden = alerts.length > 0;
}

async function act(alert, action, body, button) {
  button.disabled = true;
  try {
    const updated = await api(`/v1/alerts/${alert.id}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'if-match': `"${alert.version}"` },
      body: JSON.stringify(body),
    });
    showMessage(`${KIND_NAMES[updated.kind] || updated.kind} ${updated.sourceId}: ${action === 'ack' ? 'acknowledged' : `resolved (${updated.resolution.replace('_', ' ')})`}.`, false);
  } catch (err) {
    if (err.status === 412 || err.status === 409) {
      // Another crew (or the detector) changed the alert since this page loaded: show it as it is now.
      showMessage(`Alert ${alert.sourceId} changed meanwhile (${err.current ? err.current.state : 'changed'}). The list is refreshed; check it and try again.`, true);
    } else {
      handleError(err);
    }
  } finally {
    button.disabled = false;
    await refresh();
  }
}

function handleError(err) {
  if (err.status === 401) {
    signOut('The key was refused (unknown or revoked). Sign in again.');
  } else if (err.status === 403) {
    showMessage('This key may not do that: ask for a crew key.', true);
  } else if (err.status === 429) {
    showMessage('Too many requests; wait a moment.', true);
  } else {
    showMessage(`Could not reach the alert service: ${err.message}`, true);
  }
}

async function refresh() {
  try {
    const alerts = [];
    let after;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams(ACTIVE_STATES.map((s) => ['state', s]));
      query.set('limit', '100');
      if (after !== undefined) query.set('after', String(after));
      const body = await api(`/v1/alerts?${query}`);
      alerts.push(...body.items);
      if (body.next === null) break;
      after = body.next;
    }
    // Newest first: the crew's question is "what came in?".
    alerts.sort((a, b) => b.id - a.id);
    render(alerts);
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    handleError(err);
  }
}

function signedIn() {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  void refresh();
  clearInterval(pollTimer);
  pollTimer = setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, POLL_MS);
}

function signOut(reason) {
  localStorage.removeItem(KEY_STORAGE);
  clearInterval(pollTimer);
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('alerts').replaceChildren();
  showMessage('', false);
  if (reason) {
    const p = document.createElement('p');
    p.className = 'refused';
    p.textContent = reason;
    $('sign-in').prepend(p);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('key').value.trim();
    if (!key) return;
    localStorage.setItem(KEY_STORAGE, key);
    $('key').value = '';
    signedIn();
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('refresh').addEventListener('click', () => void refresh());
  if (localStorage.getItem(KEY_STORAGE)) signedIn();
  else signOut();
});
