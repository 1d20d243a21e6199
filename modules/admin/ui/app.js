/* looklook dashboard: one hand-written script, no framework.  Each view
 * (overview, queues, one queue, one task, servers, cron, kafka) is drawn from the JSON API
 * under /api/ (modules/admin/README.md) and redrawn on a timer.  Actions
 * are POSTs carrying the CSRF token from GET /api/csrf. */
'use strict';

const POLL_MS = 5000;
const HISTORY = 720;            /* status samples kept: an hour at 5 s */
const STATES = ['pending', 'active', 'scheduled', 'retry', 'archived',
                'completed'];
const COLORS = ['#2f6fde', '#1a8f4c', '#b7791f', '#7b3fd1', '#0f8fa0',
                '#c92a2a'];

let csrf = null;
let status = null;              /* the last /api/status */
const samples = [];             /* {t, routes: {key: counters}} */
let viewTimer = null;
let viewSeq = 0;                /* a redraw of an older view is dropped */

function esc(v) {
  return String(v === undefined || v === null ? '' : v)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(n) {
  return Number(n || 0).toLocaleString('en-US');
}

function dur(s) {
  s = Math.max(0, Math.floor(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor(s % 86400 / 3600) + 'h';
}

function when(unixS) {
  if (!unixS) return '';
  const d = new Date(unixS * 1000), rel = unixS - Date.now() / 1000;
  const r = Math.abs(rel) < 1 ? 'now' : rel > 0 ? 'in ' + dur(rel) : dur(-rel) + ' ago';
  return '<span title="' + esc(d.toISOString()) + '">' + esc(r) + '</span>';
}

async function api(path, opts) {
  const res = await fetch(path, Object.assign({ cache: 'no-store' }, opts || {}));
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    throw new Error((body && body.error) || res.status + ' ' + res.statusText);
  }
  return body;
}

async function post(path) {
  if (!csrf) csrf = (await api('/api/csrf')).csrf;
  return api(path, { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
}

function flash(msg, bad) {
  const f = document.getElementById('flash');
  f.textContent = msg;
  f.className = bad ? 'bad' : '';
  f.hidden = false;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => { f.hidden = true; }, 6000);
}

function view(html) {
  document.getElementById('view').innerHTML = html;
}

/* ---- status polling and the throughput history ------------------------ */

async function pollStatus() {
  const conn = document.getElementById('conn');
  try {
    status = await api('/api/status');
    const routes = {};
    (status.routes || []).forEach(r => { routes[r.from + ' \u2192 ' + (r.to || '(none)')] = r; });
    samples.push({ t: Date.now() / 1000, routes: routes });
    if (samples.length > HISTORY) samples.shift();
    conn.textContent = 'looklook ' + status.version + ' \u00b7 generation ' +
      status.generation + (status.ready ? '' : ' \u00b7 not ready');
    conn.className = status.ready ? '' : 'bad';
  } catch (e) {
    conn.textContent = 'no answer: ' + e.message;
    conn.className = 'bad';
  }
}

/* per-second rates between samples, per route: {key: [[t, rate]...]} */
function rates(pick) {
  const out = {};
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i], dt = b.t - a.t;
    if (dt <= 0) continue;
    Object.keys(b.routes).forEach(k => {
      const was = a.routes[k] ? pick(a.routes[k]) : 0;
      const d = pick(b.routes[k]) - was;
      (out[k] = out[k] || []).push([b.t, d > 0 ? d / dt : 0]);
    });
  }
  return out;
}

function chart(id, title, series, unit, none) {
  /* routes that never moved are left out */
  const keys = Object.keys(series).filter(k => series[k].some(p => p[1] > 0))
    .slice(0, COLORS.length);
  const W = 600, H = 200, L = 44, B = 20, T = 8;
  let max = 0, t0 = Infinity, t1 = -Infinity;
  keys.forEach(k => series[k].forEach(([t, v]) => {
    max = Math.max(max, v); t0 = Math.min(t0, t); t1 = Math.max(t1, t);
  }));
  if (max === 0) max = 1;
  if (!(t1 > t0)) { t0 = Date.now() / 1000 - 60; t1 = t0 + 60; }
  const x = t => L + (t - t0) / (t1 - t0) * (W - L - 4);
  const y = v => T + (1 - v / max) * (H - T - B);
  let svg = '';
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4;
    svg += '<line class="grid" x1="' + L + '" x2="' + W + '" y1="' + y(v) + '" y2="' + y(v) + '"/>' +
      '<text x="' + (L - 4) + '" y="' + (y(v) + 4) + '" text-anchor="end">' +
      esc(max < 4 ? v.toFixed(2) : max < 40 ? v.toFixed(1) : Math.round(v)) + '</text>';
  }
  svg += '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '"/>' +
    '<text x="' + L + '" y="' + (H - 4) + '">' + esc(dur(Date.now() / 1000 - t0)) + ' ago</text>' +
    '<text x="' + W + '" y="' + (H - 4) + '" text-anchor="end">now</text>';
  keys.forEach((k, i) => {
    const pts = series[k].map(([t, v]) => x(t).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
    svg += '<polyline data-route="' + esc(k) + '" fill="none" stroke-width="2" stroke="' +
      COLORS[i] + '" points="' + pts + '"/>';
  });
  const legend = keys.length ? keys.map((k, i) => '<span><i class="sw' + i + '"></i>' + esc(k) + '</span>').join('')
    : '<span class="muted">' + esc(none) + '</span>';
  return '<div class="chart" id="' + id + '"><h2>' + esc(title) + ' <span class="muted">(' +
    esc(unit) + ', last hour)</span></h2>' +
    '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none">' + svg + '</svg>' +
    '<div class="legend">' + legend + '</div></div>';
}

/* ---- overview ---------------------------------------------------------- */

function card(k, v) {
  return '<div class="card"><div class="k">' + esc(k) + '</div><div class="v">' + v + '</div></div>';
}

function pill(text, kind) {
  return '<span class="pill ' + (kind || '') + '">' + esc(text) + '</span>';
}

function drawOverview() {
  const s = status;
  if (!s) { view('<h1>Overview</h1><p class="muted">loading\u2026</p>'); return; }
  const workers = s.workers || [], mods = s.modules || [], routes = s.routes || [];
  const rl = s.reloads || { ok: 0, failed: 0, recent: [] };
  let h = '<h1>Overview</h1><div class="cards">' +
    card('Generation', esc(s.generation)) +
    card('Uptime', esc(dur(s.uptime_seconds))) +
    card('Ready', s.ready ? pill('ready', 'ok') : pill('not ready', 'bad')) +
    card('Workers', esc(workers.filter(w => w.state === 'ready').length) + ' / ' + esc(workers.length)) +
    card('Worker restarts', esc(num(s.worker_restarts))) +
    card('Reloads', esc(rl.ok) + ' ok \u00b7 ' + esc(rl.failed) + ' failed') +
    card('Version', esc(s.version)) + '</div>';
  h += '<div class="two">' +
    chart('throughput', 'Throughput per route', rates(r => r.received), 'messages/s',
          'no message yet') +
    chart('errors', 'Errors per route', rates(r => r.failed + r.retried), 'failed + retried/s',
          'no error') +
    '</div>';
  h += '<h2>Routes</h2><table id="routes"><tr><th>from</th><th>to</th><th class="n">received</th>' +
    '<th class="n">done</th><th class="n">retried</th><th class="n">failed</th><th class="n">revoked</th>' +
    '<th class="n">avg ms</th><th class="n">p50 ms</th><th class="n">p99 ms</th></tr>' +
    routes.map(r => '<tr><td class="mono">' + esc(r.from) + '</td><td class="mono">' + esc(r.to) +
      '</td><td class="n">' + num(r.received) + '</td><td class="n">' + num(r.done) +
      '</td><td class="n">' + num(r.retried) + '</td><td class="n">' + num(r.failed) +
      '</td><td class="n">' + num(r.revoked) + '</td><td class="n">' + esc(r.avg_ms.toFixed(2)) +
      '</td><td class="n">' + esc(r.p50_ms.toFixed(2)) + '</td><td class="n">' + esc(r.p99_ms.toFixed(2)) +
      '</td></tr>').join('') + '</table>';
  h += '<h2>Workers</h2><table id="workers"><tr><th>slot</th><th>pid</th><th>generation</th>' +
    '<th>state</th><th>started</th><th class="n">restarts</th></tr>' +
    workers.map(w => '<tr><td>' + esc(w.slot) + '</td><td class="mono">' + esc(w.pid) +
      '</td><td>' + esc(w.generation) + '</td><td>' +
      pill(w.state, w.state === 'ready' ? 'ok' : 'warn') + '</td><td>' + when(w.started) +
      '</td><td class="n">' + num(w.restarts) + '</td></tr>').join('') + '</table>';
  h += '<h2>Modules</h2><table id="modules"><tr><th>name</th><th>module</th><th>version</th>' +
    '<th>ABI</th><th>file</th><th>health</th></tr>' +
    mods.map(m => '<tr data-module="' + esc(m.name) + '"><td>' + esc(m.name) + '</td><td>' + esc(m.module) +
      '</td><td>' + esc(m.version) + '</td><td>' + esc(m.abi) + '</td><td class="mono">' + esc(m.path) +
      '</td><td>' + (m.workers || []).map(w => pill('worker ' + w.slot + ': ' + w.health +
        (w.reason ? ' (' + w.reason + ')' : ''), w.health === 'ready' ? 'ok' : 'bad')).join(' ') +
      '</td></tr>').join('') + '</table>';
  h += '<h2>Reloads</h2><table id="reloads"><tr><th>generation</th><th>when</th><th>outcome</th><th>reason</th></tr>' +
    ((rl.recent || []).slice().reverse().map(e => '<tr><td>' + esc(e.generation) + '</td><td>' +
      when(e.at) + '</td><td>' + pill(e.outcome, e.outcome === 'ok' ? 'ok' : 'bad') +
      '</td><td>' + esc(e.reason) + '</td></tr>').join('') ||
      '<tr><td colspan="4" class="muted">no reload yet</td></tr>') + '</table>';
  view(h);
}

/* ---- queues ------------------------------------------------------------ */

function qlink(q, state) {
  return '#/queues/' + encodeURIComponent(q) + (state ? '?state=' + state : '');
}

async function drawQueues(seq) {
  const d = await api('/api/queues');
  if (seq !== viewSeq) return;
  const qs = d.queues || [];
  let h = '<h1>Queues <span class="muted">(' + esc(d.redis) + ')</span></h1>';
  if (!qs.length) { view(h + '<p class="muted">No queue in this Redis yet.</p>'); return; }
  h += '<table id="queues"><tr><th>queue</th><th>state</th><th class="n">size</th>' +
    STATES.map(s => '<th class="n">' + s + '</th>').join('') +
    '<th class="n">processed today</th><th class="n">failed today</th><th class="n">error rate</th>' +
    '<th class="n">latency</th><th></th></tr>';
  qs.forEach(q => {
    const rate = q.processed_today ? (100 * q.failed_today / q.processed_today).toFixed(1) + '%' : '-';
    h += '<tr data-queue="' + esc(q.queue) + '"><td><a href="' + esc(qlink(q.queue)) + '">' + esc(q.queue) +
      '</a></td><td>' + (q.paused ? pill('paused', 'warn') : pill('run', 'ok')) + '</td><td class="n">' +
      num(q.size) + '</td>' + STATES.map(s => '<td class="n"><a href="' + esc(qlink(q.queue, s)) + '">' +
      num(q[s]) + '</a></td>').join('') + '<td class="n">' + num(q.processed_today) + '</td><td class="n">' +
      num(q.failed_today) + '</td><td class="n">' + rate + '</td><td class="n">' +
      esc(q.latency_seconds ? dur(q.latency_seconds) : '0s') + '</td><td>' +
      pauseButton(q) + '</td></tr>';
  });
  view(h + '</table>');
}

function pauseButton(q) {
  return '<button data-act="' + (q.paused ? 'unpause' : 'pause') + '" data-q="' + esc(q.queue) + '">' +
    (q.paused ? 'Unpause' : 'Pause') + '</button>';
}

/* which actions each state offers (asynq's rules: an active task is only
 * cancelled, a pending one cannot be "run" again, ...) */
const TASK_ACTS = {
  pending: ['archive', 'delete'], active: ['cancel'],
  scheduled: ['run', 'archive', 'delete'], retry: ['run', 'archive', 'delete'],
  archived: ['run', 'delete'], completed: ['delete']
};

function taskButtons(q, t) {
  return '<div class="actions">' + (TASK_ACTS[t.state] || []).map(a =>
    '<button data-act="' + a + '" data-q="' + esc(q) + '" data-id="' + esc(t.id) + '"' +
    (a === 'delete' ? ' class="danger"' : '') + '>' + a[0].toUpperCase() + a.slice(1) +
    '</button>').join('') + '</div>';
}

function preview(t) {
  const p = t.payload !== undefined ? t.payload : t.payload_hex;
  return typeof p === 'string' ? p : JSON.stringify(p);
}

function due(t) {
  if (t.next_process_at_ms) return when(t.next_process_at_ms / 1000);
  if (t.next_process_at) return when(t.next_process_at);
  if (t.last_failed_at_score) return when(t.last_failed_at_score);
  if (t.expires_at) return when(t.expires_at);
  return '';
}

/* processed (done) and failed per day as bars, oldest left */
function dayChart(days) {
  const W = 600, H = 150, L = 44, B = 20, T = 8, n = days.length;
  const max = Math.max(1, ...days.map(d => d.processed));
  const y = v => T + (1 - v / max) * (H - T - B), bw = (W - L) / n;
  let svg = '';
  for (let i = 0; i <= 2; i++) {
    const v = Math.round(max * i / 2);
    svg += '<line class="grid" x1="' + L + '" x2="' + W + '" y1="' + y(v) + '" y2="' + y(v) + '"/>' +
      '<text x="' + (L - 4) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + esc(num(v)) + '</text>';
  }
  days.forEach((d, i) => {
    const x = L + i * bw + bw * 0.15, w = bw * 0.7, ok = d.processed - d.failed;
    svg += '<rect data-date="' + esc(d.date) + '" x="' + x.toFixed(1) + '" width="' + w.toFixed(1) +
      '" y="' + y(d.processed).toFixed(1) + '" height="' + (y(0) - y(d.processed)).toFixed(1) +
      '" fill="' + COLORS[5] + '"><title>' + esc(d.date + ': ' + d.processed + ' processed, ' +
      d.failed + ' failed') + '</title></rect>' +
      '<rect x="' + x.toFixed(1) + '" width="' + w.toFixed(1) + '" y="' + y(ok).toFixed(1) +
      '" height="' + (y(0) - y(ok)).toFixed(1) + '" fill="' + COLORS[0] + '"/>' +
      '<text x="' + (x + w / 2).toFixed(1) + '" y="' + (H - 4) + '" text-anchor="middle">' +
      esc(d.date.slice(5)) + '</text>';
  });
  return '<div class="chart" id="days"><h2>Last ' + n + ' days <span class="muted">(UTC)</span></h2>' +
    '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" class="days">' + svg + '</svg>' +
    '<div class="legend"><span><i class="sw0"></i>succeeded</span><span><i class="sw5"></i>failed</span></div></div>';
}

async function drawQueue(seq, q, state, page) {
  const [qi, days, list] = await Promise.all([
    api('/api/queues/' + encodeURIComponent(q)),
    api('/api/queues/' + encodeURIComponent(q) + '/history?days=7'),
    api('/api/queues/' + encodeURIComponent(q) + '/tasks?state=' + state + '&page=' + page + '&size=20')]);
  if (seq !== viewSeq) return;
  const pages = Math.max(1, Math.ceil(list.total / list.size));
  const dueHead = { archived: 'archived', completed: 'expires', active: '', pending: '' }[state];
  let h = '<h1>Queue <span class="mono">' + esc(q) + '</span> ' +
    (qi.paused ? pill('paused', 'warn') : pill('run', 'ok')) + ' ' + pauseButton(qi) + '</h1>' +
    '<div class="cards">' + card('processed today', num(qi.processed_today)) +
    card('failed today', num(qi.failed_today)) + card('latency', esc(dur(qi.latency_seconds))) +
    card('size', num(qi.size)) + '</div>' + dayChart(days) +
    '<div class="tabs" id="states">' + STATES.map(s => '<a href="' + esc(qlink(q, s)) + '" data-state="' + s + '"' +
      (s === state ? ' class="on"' : '') + '>' + s + ' ' + num(qi[s]) + '</a>').join('') + '</div>' +
    '<div class="bar"><span class="grow muted">' + num(list.total) + ' ' + esc(state) + ' task' +
    (list.total === 1 ? '' : 's') + ' \u00b7 page ' + (page + 1) + ' of ' + pages + '</span>' +
    (page > 0 ? '<a href="' + esc(qlink(q, state)) + '&page=' + (page - 1) + '">\u2190 newer</a>' : '') +
    (page + 1 < pages ? '<a href="' + esc(qlink(q, state)) + '&page=' + (page + 1) + '">older \u2192</a>' : '') +
    '<span class="actions">' + (TASK_ACTS[state] || []).filter(a => a !== 'cancel').map(a =>
      '<button data-act="' + a + '-all" data-q="' + esc(q) + '" data-state="' + state + '" class="danger"' +
      (list.total ? '' : ' disabled') + '>' + a[0].toUpperCase() + a.slice(1) + ' all</button>').join('') +
    '</span></div>';
  h += '<table id="tasks"><tr><th>ID</th><th>type</th><th>payload</th><th class="n">retried</th>' +
    '<th>last error</th><th>' + esc(dueHead === undefined ? 'due' : dueHead) + '</th><th></th></tr>';
  h += list.tasks.map(t => '<tr data-id="' + esc(t.id) + '"><td class="mono"><a href="#/queues/' +
    esc(encodeURIComponent(q)) + '/tasks/' + esc(encodeURIComponent(t.id)) + '">' + esc(t.id) + '</a></td><td>' +
    esc(t.type || t.decode_error) + '</td><td class="mono preview" title="' + esc(preview(t)) + '">' +
    esc(preview(t)) + '</td><td class="n">' + esc(t.retried || 0) + ' / ' + esc(t.max_retry || 0) +
    '</td><td class="err">' + esc(t.last_error) + '</td><td>' + due(t) + '</td><td>' +
    taskButtons(q, t) + '</td></tr>').join('') ||
    '<tr><td colspan="7" class="muted">no ' + esc(state) + ' task</td></tr>';
  view(h + '</table>');
}

async function drawTask(seq, q, id) {
  const t = await api('/api/queues/' + encodeURIComponent(q) + '/tasks/' + encodeURIComponent(id));
  if (seq !== viewSeq) return;
  const rows = [['queue', esc(q)], ['state', pill(t.state)], ['type', esc(t.type)],
    ['retried', esc(t.retried) + ' of ' + esc(t.max_retry)], ['last error', esc(t.last_error)],
    ['last failed', when(t.last_failed_at)], ['due', due(t)],
    ['timeout', t.timeout_seconds ? esc(dur(t.timeout_seconds)) : ''], ['deadline', when(t.deadline)],
    ['unique key', esc(t.unique_key)], ['group', esc(t.group)],
    ['retention', t.retention_seconds ? esc(dur(t.retention_seconds)) : ''],
    ['completed', when(t.completed_at)],
    ['headers', esc(Object.keys(t.headers || {}).map(k => k + ': ' + t.headers[k]).join(', '))]];
  const pretty = v => typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  let h = '<h1>Task <span class="mono">' + esc(t.id) + '</span></h1>' + taskButtons(q, t) +
    '<h2>Details</h2><table id="task">' + rows.filter(r => r[1] !== '').map(r =>
      '<tr><th>' + esc(r[0]) + '</th><td>' + r[1] + '</td></tr>').join('') + '</table>' +
    '<h2>Payload' + (t.payload_hex !== undefined ? ' (hex)' : '') + '</h2><pre id="payload">' +
    esc(pretty(t.payload !== undefined ? t.payload : t.payload_hex)) + '</pre>';
  if (t.result !== undefined) h += '<h2>Result</h2><pre>' + esc(pretty(t.result)) + '</pre>';
  view(h + '<p><a href="' + esc(qlink(q, t.state)) + '">\u2190 ' + esc(t.state) + ' tasks of ' + esc(q) + '</a></p>');
}

/* ---- servers ----------------------------------------------------------- */

function taskLink(q, id) {
  return '<a class="mono" href="#/queues/' + esc(encodeURIComponent(q)) + '/tasks/' +
    esc(encodeURIComponent(id)) + '">' + esc(id) + '</a>';
}

async function drawServers(seq) {
  const servers = await api('/api/servers');
  if (seq !== viewSeq) return;
  let h = '<h1>Servers</h1>';
  if (!servers.length) { view(h + '<p class="muted">No server has written its info to this Redis.</p>'); return; }
  h += '<table id="servers"><tr><th>host</th><th>pid</th><th>server ID</th><th>status</th>' +
    '<th class="n">concurrency</th><th>queues (priority)</th><th>started</th><th class="n">active</th></tr>' +
    servers.map(v => '<tr data-server="' + esc(v.server_id) + '"><td>' + esc(v.host) + '</td><td class="mono">' +
      esc(v.pid) + '</td><td class="mono">' + esc(v.server_id) + '</td><td>' +
      pill(v.status, v.status === 'active' ? 'ok' : 'warn') + '</td><td class="n">' + esc(v.concurrency) +
      '</td><td>' + Object.keys(v.queues).sort().map(q => esc(q) + ' ' + esc(v.queues[q])).join(', ') +
      (v.strict_priority ? ' ' + pill('strict') : '') + '</td><td>' + when(v.started) +
      '</td><td class="n">' + esc(v.active_workers) + '</td></tr>').join('') + '</table>';
  const running = [];
  servers.forEach(v => v.workers.forEach(w => running.push([v, w])));
  h += '<h2>Active tasks</h2><table id="workers-active"><tr><th>task</th><th>type</th><th>payload</th>' +
    '<th>queue</th><th>server</th><th>started</th><th>deadline</th></tr>' +
    (running.map(([v, w]) => '<tr data-id="' + esc(w.task_id) + '"><td>' + taskLink(w.queue, w.task_id) +
      '</td><td>' + esc(w.type) + '</td><td class="mono preview">' + esc(w.payload) + '</td><td>' +
      esc(w.queue) + '</td><td class="mono">' + esc(v.host + ':' + v.pid) + '</td><td>' + when(w.started) +
      '</td><td>' + when(w.deadline) + '</td></tr>').join('') ||
      '<tr><td colspan="7" class="muted">no task is running</td></tr>') + '</table>';
  view(h);
}

/* ---- cron -------------------------------------------------------------- */

/* the queue an entry enqueues into, from its asynq options */
function cronQueue(e) {
  const o = (e.options || []).map(x => /^Queue\("(.*)"\)$/.exec(x)).find(Boolean);
  return o ? o[1] : 'default';
}

/* the last task's state: its hash, or gone once done (no retention) */
async function lastResult(e) {
  if (!e.last_task) return '';
  try {
    const t = await api('/api/queues/' + encodeURIComponent(cronQueue(e)) + '/tasks/' +
                        encodeURIComponent(e.last_task));
    return pill(t.state, t.state === 'archived' ? 'bad' : t.state === 'retry' ? 'warn' : 'ok') +
      (t.last_error ? ' <span class="err">' + esc(t.last_error) + '</span>' : '');
  } catch (err) {
    return pill('done', 'ok');
  }
}

async function drawCron(seq) {
  const entries = await api('/api/cron');
  const results = await Promise.all(entries.map(lastResult));
  if (seq !== viewSeq) return;
  let h = '<h1>Cron</h1>';
  if (!entries.length) { view(h + '<p class="muted">No cron entry is published in this Redis.</p>'); return; }
  h += '<table id="cron"><tr><th>entry</th><th>spec</th><th>task type</th><th>options</th><th>next</th>' +
    '<th>previous</th><th>last task</th><th>result</th><th></th></tr>' +
    entries.map((e, i) => '<tr data-entry="' + esc(e.entry) + '"><td><a href="#/cron/' +
      esc(encodeURIComponent(e.entry || e.id)) + '">' + esc(e.entry || e.id) + '</a></td><td class="mono">' +
      esc(e.spec) + '</td><td>' + esc(e.type) + '</td><td class="mono">' + esc((e.options || []).join(', ')) +
      '</td><td>' + when(e.next) + '</td><td>' + (e.prev ? when(e.prev) : '<span class="muted">never</span>') +
      '</td><td>' + (e.last_task ? taskLink(cronQueue(e), e.last_task) : '') + '</td><td>' + results[i] +
      '</td><td><button data-act="cron-run" data-entry="' + esc(e.entry || e.id) + '">Run now</button></td></tr>'
    ).join('') + '</table>';
  view(h);
}

async function drawCronEntry(seq, entry) {
  const [entries, hist] = await Promise.all([api('/api/cron'),
    api('/api/cron/' + encodeURIComponent(entry) + '/history?n=50')]);
  if (seq !== viewSeq) return;
  const e = entries.find(x => x.entry === entry || x.id === entry) || { entry: entry, options: [] };
  const q = cronQueue(e);
  view('<h1>Cron entry <span class="mono">' + esc(entry) + '</span> ' +
    '<button data-act="cron-run" data-entry="' + esc(entry) + '">Run now</button></h1>' +
    '<div class="cards">' + card('spec', esc(e.spec || '')) + card('next', when(e.next)) +
    card('previous', e.prev ? when(e.prev) : 'never') + card('queue', esc(q)) + '</div>' +
    '<h2>History <span class="muted">(newest first)</span></h2><table id="history"><tr><th>task</th>' +
    '<th>enqueued</th></tr>' + (hist.map(x => '<tr><td>' + taskLink(q, x.task_id) + '</td><td>' +
      when(x.enqueued_at) + '</td></tr>').join('') ||
      '<tr><td colspan="2" class="muted">not fired yet</td></tr>') + '</table>');
}

/* ---- kafka: from the kafka module's series in /api/status --------------- */

/* 'name{a="x",b="y"}' -> {name, labels} */
function parseSeries(key) {
  const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key) || [null, key, ''];
  const labels = {};
  (m[2] || '').replace(/(\w+)="((?:[^"\\]|\\.)*)"/g, (_, k, v) => { labels[k] = v.replace(/\\(.)/g, '$1'); });
  return { name: m[1], labels: labels };
}

async function drawKafka(seq) {
  await pollStatus();
  if (seq !== viewSeq || !status) return;
  const parts = {}, topics = {};
  (status.metrics || []).forEach(x => {
    const s = parseSeries(x.series), l = s.labels;
    if (!/^looklook_kafka_/.test(s.name)) return;
    if (l.partition !== undefined) {
      const k = l.name + '\u0000' + l.topic + '\u0000' + l.partition;
      const p = parts[k] = parts[k] || { name: l.name, topic: l.topic, partition: +l.partition };
      p[s.name.replace(/^looklook_kafka_/, '')] = x.value;
    } else if (l.topic !== undefined) {
      const k = l.name + '\u0000' + l.topic;
      const t = topics[k] = topics[k] || { name: l.name, topic: l.topic };
      t[s.name.replace(/^looklook_kafka_|_total$/g, '')] = x.value;
    }
  });
  const pl = Object.values(parts).sort((a, b) => a.name.localeCompare(b.name) ||
    a.topic.localeCompare(b.topic) || a.partition - b.partition);
  let h = '<h1>Kafka</h1>';
  if (!pl.length && !Object.keys(topics).length) {
    view(h + '<p class="muted">No kafka instance has reported a partition yet.</p>');
    return;
  }
  h += '<h2>Partitions</h2><table id="partitions"><tr><th>instance</th><th>topic</th><th class="n">partition</th>' +
    '<th class="n">committed</th><th class="n">high watermark</th><th class="n">lag</th><th>fetching</th></tr>' +
    pl.map(p => '<tr data-part="' + esc(p.topic + '/' + p.partition) + '"><td>' + esc(p.name) + '</td><td>' +
      esc(p.topic) + '</td><td class="n">' + esc(p.partition) + '</td><td class="n">' +
      (p.committed_offset === undefined ? '' : num(p.committed_offset)) + '</td><td class="n">' +
      (p.high_watermark === undefined ? '' : num(p.high_watermark)) + '</td><td class="n">' +
      (p.consumer_lag === undefined ? '' : num(p.consumer_lag)) + '</td><td>' +
      (p.partition_paused ? pill('paused (backlog full)', 'warn') : pill('fetching', 'ok')) +
      '</td></tr>').join('') + '</table>';
  h += '<h2>Given up</h2><table id="dead"><tr><th>instance</th><th>topic</th>' +
    '<th class="n">dead-lettered</th><th class="n">dropped</th></tr>' +
    (Object.values(topics).map(t => '<tr><td>' + esc(t.name) + '</td><td>' + esc(t.topic) +
      '</td><td class="n">' + num(t.dead_lettered) + '</td><td class="n">' + num(t.dropped) +
      '</td></tr>').join('') || '<tr><td colspan="4" class="muted">nothing dead-lettered or dropped</td></tr>') +
    '</table>';
  /* the letters themselves, read from the brokers by the admin module */
  const sources = [...new Set(Object.values(topics).filter(t => t.dead_lettered).map(t => t.topic))].sort();
  const dead = await Promise.all(sources.map(src =>
    api('/api/kafka/dead/' + encodeURIComponent(src) + '?n=10').catch(e => ({ source: src, error: e.message }))));
  if (seq !== viewSeq) return;
  dead.forEach(d => {
    h += '<h2>Dead letters of <span class="mono">' + esc(d.source) + '</span>' +
      (d.topic ? ' <span class="muted">(' + esc(d.topic) + ': ' + num(d.count) + ', the newest 10)</span>' : '') + '</h2>';
    if (d.error) { h += '<p class="muted">' + esc(d.error) + '</p>'; return; }
    h += '<table class="letters" data-source="' + esc(d.source) + '"><tr><th>partition/offset</th><th>written</th>' +
      '<th>key</th><th>value</th><th>error</th><th class="n">attempts</th><th>from</th><th></th></tr>' +
      d.letters.map(l => {
        const x = l.headers || {};
        return '<tr data-letter="' + esc(l.partition + '/' + l.offset) + '"><td class="mono">' +
          esc(l.partition + '/' + l.offset) + '</td><td>' + when(l.timestamp) + '</td><td class="mono">' +
          esc(l.key) + '</td><td class="mono preview" title="' + esc(l.value) + '">' + esc(l.value) +
          '</td><td class="err">' + esc(x['x-looklook-error']) + '</td><td class="n">' +
          esc(x['x-looklook-attempts']) + '</td><td class="mono">' + esc((x['x-looklook-topic'] || '') + '[' +
          (x['x-looklook-partition'] || '') + ']@' + (x['x-looklook-offset'] || '')) + '</td><td>' +
          '<button data-act="republish" data-source="' + esc(d.source) + '" data-p="' + esc(l.partition) +
          '" data-off="' + esc(l.offset) + '">Re-publish</button></td></tr>';
      }).join('') + '</table>';
  });
  view(h);
}

/* ---- actions ----------------------------------------------------------- */

/* A destructive button asks once more: the first click arms it. */
async function act(b) {
  const q = b.dataset.q, a = b.dataset.act;
  if (b.classList.contains('danger') && !b.dataset.armed) {
    b.dataset.armed = '1';
    b.textContent = 'Sure? ' + b.textContent;
    setTimeout(() => { if (b.isConnected) render(); }, 4000);
    return;
  }
  const base = '/api/queues/' + encodeURIComponent(q);
  let path, what;
  if (a === 'republish') {
    path = '/api/kafka/dead/' + encodeURIComponent(b.dataset.source) + '/' + b.dataset.p + '/' +
      b.dataset.off + '/republish';
    what = 're-publish ' + b.dataset.source + ' dead letter ' + b.dataset.p + '/' + b.dataset.off;
  } else if (a === 'cron-run') {
    path = '/api/cron/' + encodeURIComponent(b.dataset.entry) + '/run'; what = 'run ' + b.dataset.entry;
  } else if (a === 'pause' || a === 'unpause') {
    path = base + '/' + a; what = a + 'd ' + q;
  } else if (a.endsWith('-all')) {
    path = base + '/states/' + b.dataset.state + '/' + a.slice(0, -4);
    what = a.slice(0, -4) + ' all ' + b.dataset.state + ' tasks';
  } else {
    path = base + '/tasks/' + encodeURIComponent(b.dataset.id) + '/' + a; what = a + ' ' + b.dataset.id;
  }
  b.disabled = true;
  try {
    const r = await post(path);
    flash(what + (r && r.count !== undefined ? ': ' + r.count + ' done'
      : r && r.task_id ? ': enqueued ' + r.task_id : r && r.topic ? ': written to ' + r.topic : ': done'));
    if (a === 'delete' && location.hash.indexOf('/tasks/') > 0) {
      location.hash = qlink(q, 'pending');
      return;
    }
  } catch (e) {
    flash(what + ': ' + e.message, true);
  }
  render();
}

document.addEventListener('click', e => {
  const b = e.target.closest('button[data-act]');
  if (b) act(b);
});

/* ---- router ------------------------------------------------------------ */

function route() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  const args = new URLSearchParams(query || '');
  const p = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] === 'queues' && p.length === 1) return { page: 'queues', draw: drawQueues };
  if (p[0] === 'queues' && p.length === 2) {
    const state = STATES.indexOf(args.get('state')) >= 0 ? args.get('state') : 'pending';
    const page = Math.max(0, parseInt(args.get('page') || '0', 10) || 0);
    return { page: 'queues', draw: seq => drawQueue(seq, p[1], state, page) };
  }
  if (p[0] === 'queues' && p[2] === 'tasks' && p.length === 4) {
    return { page: 'queues', draw: seq => drawTask(seq, p[1], p[3]) };
  }
  if (p[0] === 'servers') return { page: 'servers', draw: drawServers };
  if (p[0] === 'cron' && p.length === 2) return { page: 'cron', draw: seq => drawCronEntry(seq, p[1]) };
  if (p[0] === 'cron') return { page: 'cron', draw: drawCron };
  if (p[0] === 'kafka') return { page: 'kafka', draw: drawKafka };
  return { page: 'overview', draw: async () => { await pollStatus(); drawOverview(); } };
}

async function render() {
  const r = route(), seq = ++viewSeq;
  clearTimeout(viewTimer);
  document.querySelectorAll('header nav a').forEach(a =>
    a.classList.toggle('on', a.dataset.page === r.page));
  try {
    await r.draw(seq);
  } catch (e) {
    if (seq === viewSeq) view('<h1>Error</h1><p class="err">' + esc(e.message) + '</p>');
  }
  if (seq === viewSeq) {
    viewTimer = setTimeout(() => {
      /* leave a half-made confirmation alone */
      if (!document.querySelector('[data-armed]')) render(); else viewTimer = setTimeout(render, POLL_MS);
    }, POLL_MS);
  }
}

/* the charts start with the last hour the server kept (/api/history) */
async function loadHistory() {
  try {
    (await api('/api/history')).samples.forEach(x => samples.push(x));
  } catch (e) { /* an older server: the charts fill as the page polls */ }
}

window.addEventListener('hashchange', render);
loadHistory().then(pollStatus).then(render);
/* the history keeps growing while another page is shown */
setInterval(() => { if (['overview', 'kafka'].indexOf(route().page) < 0) pollStatus(); }, POLL_MS);
