// RobotFleet web console: tabs, the live stream (Server-Sent Events), and the pages.
import { getJson, postJson, el, formatTime } from './api.js';
import { LiveMap, robotState } from './map.js';

const $ = selector => document.querySelector(selector);
const state = {
  robots: new Map(),    // id -> live robot {id, robot, route, ts}
  missions: new Map(),  // id -> mission
  alerts: new Map(),    // id -> alert
  selectedRobot: null,
  selectedMission: null,
  picks: [],            // locations clicked on the map for the delivery form
};

// Measurements the page takes itself (the UI load bench reads them): state-to-screen latency per robot
// update (page clock after the frame that shows it minus the server's receive time) and frames per second.
const metrics = window.robotFleetMetrics = { latencies: [], frames: 0, fps: 0, updates: 0, reset() { this.latencies = []; this.updates = 0; } };
(function countFrames() {
  let last = performance.now(), frames = 0;
  const loop = now => {
    frames++; metrics.frames++;
    if (now - last >= 1000) { metrics.fps = frames * 1000 / (now - last); frames = 0; last = now; }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})();

// ---- tabs
for (const button of document.querySelectorAll('nav [data-tab]')) {
  button.addEventListener('click', () => showTab(button.dataset.tab));
}
function showTab(tab) {
  for (const b of document.querySelectorAll('nav [data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === `tab-${tab}`);
  if (tab === 'map') liveMap.map.invalidateSize();
  if (tab === 'missions') renderMissions();
  if (tab === 'alerts') renderAlerts();
}

// ---- map
const liveMap = new LiveMap($('#map'), {
  onRobotClick: id => selectRobot(id),
  onLocationClick: name => pickLocation(name),
});

// ---- rendering, batched to one per frame
const dirty = new Set();
let frameRequested = false;
function invalidate(what) {
  dirty.add(what);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    if (dirty.has('robots')) renderRobotPanel();
    if (dirty.has('missions') && $('#tab-missions').classList.contains('active')) renderMissions();
    if (dirty.has('alerts')) renderAlerts();
    dirty.clear();
  });
}

function applyRobots(message) {
  if (message.full) {
    for (const id of [...state.robots.keys()]) if (!message.robots.some(r => r.id === id)) { state.robots.delete(id); liveMap.removeRobot(id); }
  }
  for (const id of message.removed ?? []) { state.robots.delete(id); liveMap.removeRobot(id); }
  for (const robot of message.robots) {
    state.robots.set(robot.id, robot);
    liveMap.upsertRobot(robot);
  }
  if (!message.full && message.robots.length > 0) {
    const stamps = message.robots.map(r => r.ts);
    requestAnimationFrame(() => {
      // This callback runs before the frame that paints the moved markers; the next one runs after it.
      requestAnimationFrame(() => {
        const now = Date.now();
        for (const ts of stamps) metrics.latencies.push(now - ts);
        metrics.updates += stamps.length;
        if (metrics.latencies.length > 200000) metrics.latencies.splice(0, 100000);
      });
    });
  }
  invalidate('robots');
}

function renderRobotPanel() {
  const robots = [...state.robots.values()];
  const online = robots.filter(r => r.robot.connection === 'ONLINE').length;
  $('#robot-summary').textContent = `robots online ${online}/${robots.length}`;
  const list = $('#robot-list');
  if (robots.length <= 100) {
    list.replaceChildren(...robots.map(r => {
      const s = robotState({ ...r.robot, route: r.route });
      const battery = r.robot.battery == null ? '' : `${Math.round(r.robot.battery)}%`;
      return el('li', { class: r.id === state.selectedRobot ? 'selected' : '', dataset: { robot: r.id }, onclick: () => selectRobot(r.id) },
        el('i', { class: `dot ${s}` }), el('span', { class: 'name' }, r.robot.serialNumber), el('span', { class: 'state' }, `${s} ${battery}`));
    }));
  } else if (list.dataset.count !== String(robots.length)) {
    list.dataset.count = String(robots.length);
    list.replaceChildren(el('li', {}, `${robots.length} robots (click a marker for details)`));
  }
  renderRobotDetails();
}

function selectRobot(id) {
  state.selectedRobot = id;
  liveMap.select(id);
  invalidate('robots');
}

function renderRobotDetails() {
  const box = $('#robot-details');
  const live = state.robots.get(state.selectedRobot);
  if (!live) { box.hidden = true; return; }
  const r = live.robot;
  const mission = live.route?.missionId ? state.missions.get(live.route.missionId) : null;
  const errors = r.errors.length ? r.errors.map(e => `${e.errorLevel} ${e.errorType}${e.errorDescription ? `: ${e.errorDescription}` : ''}`).join('; ') : 'none';
  const rows = [
    ['State', robotState({ ...r, route: live.route })],
    ['Connection', r.connection],
    ['Battery', r.battery == null ? '–' : `${r.battery.toFixed(0)}%${r.charging ? ' (charging)' : ''}`],
    ['Mission', live.route?.missionId ? `${live.route.missionId}${mission ? ` (${mission.status}: ${mission.pickup} → ${mission.dropoff})` : ''}` : (live.route ? `moving aside (${live.route.orderId})` : '–')],
    ['Order', r.orderId || '–'],
    ['Last node', r.lastNodeId || '–'],
    ['Route', live.route ? `${live.route.waypoints.length - 1} waypoints ahead, ${live.route.released - 1} released` : '–'],
    ['Position', r.position ? `${r.position.x.toFixed(1)}, ${r.position.y.toFixed(1)} m on ${r.position.mapId}` : '–'],
    ['Errors', errors],
    ['Model', 'no model registry yet'],
    ['Last state', r.lastStateAt ? formatTime(r.lastStateAt) : '–'],
  ];
  box.hidden = false;
  box.replaceChildren(el('strong', {}, live.id), el('dl', {}, rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

// ---- delivery form
async function loadLocations() {
  const locations = await getJson('/api/locations');
  const options = () => locations.map(l => el('option', { value: l.name }, l.kinds.length ? `${l.name} (${l.kinds.join(', ')})` : l.name));
  const pickup = $('#pickup'), dropoff = $('#dropoff');
  pickup.replaceChildren(...options());
  dropoff.replaceChildren(...options());
  const preferred = (kind, fallback) => locations.find(l => l.kinds.includes(kind))?.name ?? fallback;
  pickup.value = preferred('pickup', locations[0]?.name);
  dropoff.value = preferred('dropoff', locations[1]?.name);
}

function pickLocation(name) {
  state.picks = state.picks.length >= 2 ? [name] : [...state.picks, name];
  if (state.picks.length === 1) $('#pickup').value = name; else $('#dropoff').value = name;
  liveMap.highlightLocations(state.picks);
  message(`${state.picks.length === 1 ? 'Pickup' : 'Dropoff'}: ${name}`);
}

function message(text, error = false) {
  const p = $('#form-message');
  p.textContent = text;
  p.classList.toggle('error', error);
}

$('#delivery-form').addEventListener('submit', async event => {
  event.preventDefault();
  const body = { kind: 'delivery', pickup: $('#pickup').value, dropoff: $('#dropoff').value, priority: Number($('#priority').value) };
  try {
    const { id } = await postJson('/api/missions', body);
    message(`Mission ${id} created`);
    state.selectedMission = id;
    state.picks = [];
    liveMap.highlightLocations([]);
    await refreshMission(id);
  } catch (e) {
    message(e.message, true);
  }
});

// ---- missions
$('#mission-filter').addEventListener('change', () => renderMissions());

async function refreshMission(id) {
  try { upsertMission(await getJson(`/api/missions/${encodeURIComponent(id)}`)); } catch { /* gone */ }
}

function upsertMission(mission) {
  state.missions.set(mission.id, mission);
  invalidate('missions');
  if (state.selectedRobot) invalidate('robots');
}

async function missionAction(id, action) {
  try {
    upsertMission(await postJson(`/api/missions/${encodeURIComponent(id)}/${action}`));
  } catch (e) {
    alert(e.message);
  }
}

function renderMissions() {
  const filter = $('#mission-filter').value;
  const all = [...state.missions.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const counts = {};
  for (const m of all) counts[m.status] = (counts[m.status] ?? 0) + 1;
  $('#mission-counts').textContent = Object.entries(counts).map(([s, n]) => `${s} ${n}`).join(' · ');
  const shown = all.filter(m => !filter || m.status === filter).slice(0, 300);
  $('#missions tbody').replaceChildren(...shown.map(m => {
    const pausable = ['Dispatched', 'Executing'].includes(m.status);
    const paused = m.status === 'Paused';
    const final = ['Completed', 'Failed', 'Cancelled'].includes(m.status);
    const stop = fn => e => { e.stopPropagation(); fn(); };
    return el('tr', { dataset: { mission: m.id, status: m.status }, class: m.id === state.selectedMission ? 'selected' : '', onclick: () => { state.selectedMission = m.id; renderMissions(); } },
      el('td', {}, m.id), el('td', {}, el('span', { class: `status-pill ${m.status}` }, m.status)), el('td', {}, m.robot ?? '–'),
      el('td', {}, `${m.pickup} → ${m.dropoff}`), el('td', {}, m.priority), el('td', {}, formatTime(m.createdAt)),
      el('td', {},
        final ? null : el('button', { class: 'cancel', onclick: stop(() => missionAction(m.id, 'cancel')) }, 'Cancel'), ' ',
        pausable ? el('button', { class: 'pause', onclick: stop(() => missionAction(m.id, 'pause')) }, 'Pause') : null, ' ',
        paused ? el('button', { class: 'resume', onclick: stop(() => missionAction(m.id, 'resume')) }, 'Resume') : null));
  }));
  renderTimeline();
}

function renderTimeline() {
  const box = $('#timeline');
  const m = state.missions.get(state.selectedMission);
  if (!m) { box.replaceChildren(el('p', { class: 'hint' }, 'Select a mission to see its timeline.')); return; }
  box.replaceChildren(...[
    el('h3', {}, `${m.id} · ${m.status}`),
    el('p', { class: 'hint' }, `${m.kind} ${m.pickup} → ${m.dropoff}, priority ${m.priority}${m.robot ? `, robot ${m.robot}` : ''}`),
    m.failureReason ? el('p', { class: 'sev-warning' }, m.failureReason) : null,
    el('ol', { dataset: { mission: m.id } }, m.history.map(h =>
      el('li', { dataset: { status: h.status } }, el('time', {}, formatTime(h.timestamp)), el('strong', {}, h.status), ` — ${h.reason} `, el('span', { class: 'hint' }, `(${h.actor})`))))].filter(Boolean));
}

// ---- alerts
$('#alerts-open-only').addEventListener('change', () => renderAlerts());

function renderAlerts() {
  const all = [...state.alerts.values()].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));
  const open = all.filter(a => !a.acknowledgedAt).length;
  const badge = $('#alert-badge');
  badge.hidden = open === 0;
  badge.textContent = String(open);
  const shown = $('#alerts-open-only').checked ? all.filter(a => !a.acknowledgedAt) : all;
  $('#alerts tbody').replaceChildren(...shown.map(a => el('tr', { dataset: { alert: a.id, kind: a.kind }, class: a.acknowledgedAt ? 'acked' : '' },
    el('td', {}, formatTime(a.raisedAt)), el('td', {}, a.kind), el('td', { class: `sev-${a.severity}` }, a.severity),
    el('td', {}, a.robot ?? '–'), el('td', {}, a.missionId ?? '–'), el('td', { class: 'message' }, a.message),
    el('td', {}, a.acknowledgedAt
      ? `acknowledged ${formatTime(a.acknowledgedAt)}`
      : el('button', { class: 'ack', onclick: async () => { try { const acked = await postJson(`/api/alerts/${encodeURIComponent(a.id)}/ack`); state.alerts.set(acked.id, acked); renderAlerts(); } catch (e) { alert(e.message); } } }, 'Acknowledge')))));
}

// ---- live stream (Server-Sent Events; EventSource reconnects by itself, also across a server restart)
function connect() {
  const source = new EventSource('/api/stream');
  const conn = $('#conn');
  source.addEventListener('open', async () => {
    conn.textContent = 'live'; conn.className = 'conn up';
    // Whatever happened while we were away: reload missions and alerts (robots come as a full snapshot).
    try {
      const [missions, alerts] = await Promise.all([getJson('/api/missions'), getJson('/api/alerts')]);
      state.missions = new Map(missions.map(m => [m.id, m]));
      state.alerts = new Map(alerts.map(a => [a.id, a]));
      invalidate('missions'); invalidate('alerts');
    } catch { /* next reconnect */ }
  });
  source.addEventListener('error', () => { conn.textContent = 'reconnecting…'; conn.className = 'conn down'; });
  source.addEventListener('robots', e => applyRobots(JSON.parse(e.data)));
  source.addEventListener('mission', e => upsertMission(JSON.parse(e.data)));
  source.addEventListener('alert', e => { const a = JSON.parse(e.data); state.alerts.set(a.id, a); invalidate('alerts'); });
}

setInterval(() => {
  const recent = metrics.latencies.slice(-2000).sort((a, b) => a - b);
  const p95 = recent.length ? recent[Math.floor(recent.length * 0.95)] : null;
  $('#latency').textContent = `${p95 == null ? '' : `p95 ${p95} ms · `}${metrics.fps.toFixed(0)} fps`;
}, 1000);

async function start() {
  const site = await getJson('/api/map');
  $('#site-name').textContent = `site ${site.robotfleet.name}`;
  const levels = liveMap.loadSite(site);
  if (levels.length > 1) {
    const box = $('#levels');
    box.hidden = false;
    const buttons = levels.map(level => el('button', { class: level === liveMap.level ? 'active' : '', onclick: () => {
      liveMap.showLevel(level);
      for (const b of buttons) b.classList.toggle('active', b.textContent === level);
    } }, level));
    box.replaceChildren(el('span', {}, 'Level '), ...buttons);
  }
  await loadLocations();
  connect();
  document.body.dataset.ready = 'true';
}

start().catch(e => { document.body.dataset.ready = 'error'; $('#conn').textContent = `failed: ${e.message}`; console.error(e); });
