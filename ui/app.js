// The ngx_durable dashboard: plain ES module, no dependencies. It talks
// to the management API (docs/http-api.md) and to the metrics page only;
// every value from them is put into the page as text, never as HTML.

const STATUSES = ['Pending', 'Running', 'Suspended', 'ContinuedAsNew',
                  'Completed', 'Failed', 'Terminated', 'Canceled'];
const TERMINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];
const KEY_STORE = 'ngx_durable.key';
const SETTINGS_STORE = 'ngx_durable.settings';

const $ = (sel) => document.querySelector(sel);

function meta(name, fallback) {
    const m = document.querySelector(`meta[name="${name}"]`);
    return m && m.content ? m.content : fallback;
}

const API = meta('durable-api', '/runtime/webhooks/durabletask')
    .replace(/\/+$/, '');
const METRICS = meta('durable-metrics', '/durable/metrics');

// --- settings: hub, connection, key ---------------------------------------

// the key lives in sessionStorage (this tab), or in localStorage when
// "remember" is ticked; hub and connection are not secret
const settings = { hub: '', connection: '', key: '' };

function loadSettings() {
    try {
        Object.assign(settings,
            JSON.parse(localStorage.getItem(SETTINGS_STORE) || '{}'));
    } catch (e) { /* a damaged entry: start from the defaults */ }
    const remembered = localStorage.getItem(KEY_STORE);
    settings.key = remembered ?? sessionStorage.getItem(KEY_STORE) ?? '';
    $('#hub').value = settings.hub || '';
    $('#connection').value = settings.connection || '';
    $('#key').value = settings.key;
    $('#remember').checked = remembered !== null;
}

function saveSettings() {
    settings.hub = $('#hub').value.trim();
    settings.connection = $('#connection').value.trim();
    settings.key = $('#key').value;
    localStorage.setItem(SETTINGS_STORE, JSON.stringify(
        { hub: settings.hub, connection: settings.connection }));
    sessionStorage.removeItem(KEY_STORE);
    localStorage.removeItem(KEY_STORE);
    if (settings.key) {
        ($('#remember').checked ? localStorage : sessionStorage)
            .setItem(KEY_STORE, settings.key);
    }
}

// --- HTTP -----------------------------------------------------------------

class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

function apiUrl(path, params = {}) {
    const q = new URLSearchParams();
    if (settings.hub) q.set('taskHub', settings.hub);
    if (settings.connection) q.set('connection', settings.connection);
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    const qs = q.toString();
    return API + path + (qs ? '?' + qs : '');
}

async function request(method, url, { body, token, json = true } = {}) {
    const headers = {};
    if (settings.key) headers['x-functions-key'] = settings.key;
    if (token) headers['x-ms-continuation-token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method, headers, body,
                                   cache: 'no-store' });
    const text = await res.text();
    let data = null;
    if (json && text) {
        try { data = JSON.parse(text); } catch (e) { data = text; }
    } else {
        data = text;
    }
    if (res.status >= 400) {
        let msg = (data && data.Message) || (typeof data === 'string'
            && data) || res.statusText || 'error';
        throw new ApiError(res.status, res.status === 401
            ? 'The key was refused (401): type it in the Key box and press '
              + 'Use.'
            : `${method} ${res.status}: ${msg}`);
    }
    return { status: res.status, data,
             token: res.headers.get('x-ms-continuation-token') };
}

function say(text, kind = 'info') {
    const m = $('#message');
    m.textContent = text;
    m.className = kind;
    m.hidden = !text;
}

// a view that loaded fine takes an error away, not a note of what was done
function clearError() {
    if ($('#message').className === 'error') say('');
}

// --- small DOM helpers ----------------------------------------------------

function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v);
    }
    for (const c of children) {
        if (c !== null && c !== undefined) {
            e.append(c instanceof Node ? c : String(c));
        }
    }
    return e;
}

function badge(status) {
    return el('span', { class: 'badge s-' + status, text: status });
}

function json(v) {
    return v === null || v === undefined ? 'null' : JSON.stringify(v, null, 2);
}

function short(v, n = 60) {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function time(t) {
    return t ? t.replace('T', ' ') : '';
}

// datetime-local (read as UTC) to the API's time format
function utc(v) {
    if (!v) return '';
    return (v.length === 16 ? v + ':00' : v) + 'Z';
}

// --- the instance list ----------------------------------------------------

const list = { tokens: [], token: null, next: null, items: [] };

function listParams() {
    const statuses = [...document.querySelectorAll(
        '#filters .statuses input:checked')].map((b) => b.value);
    return {
        runtimeStatus: statuses.join(','),
        createdTimeFrom: utc($('#created-from').value),
        createdTimeTo: utc($('#created-to').value),
        instanceIdPrefix: $('#id-prefix').value.trim(),
        top: $('#top').value,
        showInput: 'false',
    };
}

async function loadInstances(token) {
    try {
        const r = await request('GET', apiUrl('/instances', listParams()),
                                { token });
        list.token = token || null;
        list.next = r.token;
        list.items = Array.isArray(r.data) ? r.data : [];
        renderInstances();
        clearError();
    } catch (e) {
        say(e.message, 'error');
    }
}

function renderInstances() {
    const name = $('#name-filter').value.trim().toLowerCase();
    const rows = list.items.filter((i) => !name
        || (i.name || '').toLowerCase().includes(name));
    const body = $('#instances tbody');
    body.replaceChildren(...rows.map((i) => el('tr',
        { 'data-id': i.instanceId },
        el('td', {}, el('a', { href: '#/instance/'
            + encodeURIComponent(i.instanceId), text: i.instanceId })),
        el('td', { text: i.name }),
        el('td', {}, badge(i.runtimeStatus)),
        el('td', { text: time(i.createdTime) }),
        el('td', { text: time(i.lastUpdatedTime) }),
        el('td', { class: 'mono', text: short(i.customStatus) }),
        el('td', { class: 'mono', text: short(i.output) }))));
    if (!rows.length) {
        body.append(el('tr', {}, el('td', { colspan: 7, class: 'muted',
            text: 'No instances match.' })));
    }
    const hidden = list.items.length - rows.length;
    $('#list-info').textContent = `page ${list.tokens.length + 1}: `
        + `${rows.length} shown`
        + (hidden ? `, ${hidden} hidden by the name filter` : '')
        + (list.next ? ', more on the next page' : '');
    $('#next-page').disabled = !list.next;
    $('#first-page').disabled = !list.tokens.length;
}

function initInstanceList() {
    const box = $('#filters .statuses');
    for (const s of STATUSES) {
        box.append(el('label', { class: 'check' },
            el('input', { type: 'checkbox', value: s }), s));
    }
    $('#filters').addEventListener('submit', (ev) => {
        ev.preventDefault();
        list.tokens = [];
        loadInstances(null);
    });
    $('#reset').addEventListener('click', () => {
        $('#filters').reset();
        list.tokens = [];
        loadInstances(null);
    });
    $('#name-filter').addEventListener('input', renderInstances);
    $('#next-page').addEventListener('click', () => {
        list.tokens.push(list.token);
        loadInstances(list.next);
    });
    $('#first-page').addEventListener('click', () => {
        list.tokens = [];
        loadInstances(null);
    });
}

// --- one instance ---------------------------------------------------------

let current = null;

async function loadInstance(id) {
    current = null;
    $('#i-id').textContent = id;
    try {
        const r = await request('GET', apiUrl('/instances/'
            + encodeURIComponent(id), { showHistory: 'true',
                                        showHistoryOutput: 'true' }));
        if (r.status === 404 || !r.data || typeof r.data !== 'object') {
            throw new ApiError(404, `No instance ${id} in this hub.`);
        }
        current = r.data;
        renderInstance();
        clearError();
    } catch (e) {
        clearInstance();
        say(e.status === 404 ? `No instance ${id} in this hub.` : e.message,
            'error');
    }
}

// the instance view with nothing in it, for a message
function clearInstance() {
    $('#i-status').replaceWith(el('span',
        { id: 'i-status', class: 'badge', text: '?' }));
    $('#i-fields').replaceChildren();
    $('#timeline').replaceChildren();
    for (const p of ['#i-input', '#i-output', '#i-custom']) {
        $(p).textContent = '';
    }
}

function renderInstance() {
    const i = current;
    const st = badge(i.runtimeStatus);
    st.id = 'i-status';
    $('#i-status').replaceWith(st);
    $('#i-fields').replaceChildren(
        el('dt', { text: 'Name' }), el('dd', { text: i.name }),
        el('dt', { text: 'Created' }), el('dd', { text: time(i.createdTime) }),
        el('dt', { text: 'Last updated' }),
        el('dd', { text: time(i.lastUpdatedTime) }),
        el('dt', { text: 'Task hub' }),
        el('dd', { text: settings.hub || '(default)' }));
    $('#i-input').textContent = json(i.input);
    $('#i-output').textContent = json(i.output);
    $('#i-custom').textContent = json(i.customStatus);
    renderTimeline(i.historyEvents || []);
    const active = !TERMINAL.includes(i.runtimeStatus);
    const allowed = {
        raiseEvent: active, terminate: active,
        suspend: active && i.runtimeStatus !== 'Suspended',
        resume: i.runtimeStatus === 'Suspended',
        rewind: i.runtimeStatus === 'Failed',
        restart: true, purge: !active,
    };
    for (const b of document.querySelectorAll('[data-action]')) {
        b.disabled = !allowed[b.dataset.action];
    }
}

// the history as a timeline: each event at its offset from the first one,
// with a bar from when a task was scheduled to its result
function renderTimeline(events) {
    const ol = $('#timeline');
    if (!events.length) {
        ol.replaceChildren(el('li', { class: 'muted',
            text: 'No history (yet).' }));
        return;
    }
    const ms = (t) => (t ? Date.parse(t) : NaN);
    const times = events.flatMap((e) => [ms(e.ScheduledTime), ms(e.Timestamp)])
        .filter((t) => !isNaN(t));
    const t0 = Math.min(...times);
    const span = Math.max(Math.max(...times) - t0, 1);
    const pct = (t) => ((t - t0) / span * 100).toFixed(2) + '%';
    ol.replaceChildren(...events.map((e) => {
        const end = ms(e.Timestamp);
        const start = isNaN(ms(e.ScheduledTime)) ? end : ms(e.ScheduledTime);
        const bar = el('div', { class: 'bar' });
        bar.style.left = pct(start);
        bar.style.width = `max(3px, ${((end - start) / span * 100)
            .toFixed(2)}%)`;
        const what = e.FunctionName || e.Name || '';
        const detail = e.Result ?? e.Input ?? e.Reason ?? e.Details
            ?? e.FailureDetails ?? (e.FireAt ? 'fires at ' + e.FireAt : null);
        return el('li', { class: 'ev ev-' + e.EventType },
            el('span', { class: 'offset', text: isNaN(end) ? ''
                : '+' + ((end - t0) / 1000).toFixed(3) + 's' }),
            el('span', { class: 'etype', text: e.EventType }),
            el('span', { class: 'ename', text: what }),
            el('span', { class: 'track' }, bar),
            el('span', { class: 'edetail mono', text: detail === null
                ? '' : short(detail, 80) }),
            el('span', { class: 'ets muted', text: time(e.Timestamp) }));
    }));
}

const ACTIONS = {
    raiseEvent: { title: 'Raise an event', fields: ['event', 'data'] },
    terminate: { title: 'Terminate', fields: ['reason'],
                 text: 'The instance stops for good; its pending work is '
                     + 'dropped.' },
    suspend: { title: 'Suspend', fields: ['reason'] },
    resume: { title: 'Resume', fields: ['reason'] },
    rewind: { title: 'Rewind', fields: ['reason'],
              text: 'The failed instance runs again from its failure.' },
    restart: { title: 'Restart', fields: ['newid'],
               text: 'Start the orchestrator again with the same input.' },
    purge: { title: 'Purge', fields: [],
             text: 'The instance and its history are deleted. This cannot '
                 + 'be undone.' },
};

function confirmAction(action) {
    const a = ACTIONS[action];
    const d = $('#confirm');
    $('#confirm-title').textContent = `${a.title}: ${current.instanceId}?`;
    $('#confirm-text').textContent = a.text || '';
    for (const f of ['event', 'data', 'reason', 'newid']) {
        $(`#confirm-${f}-row`).hidden = !a.fields.includes(f);
    }
    $('#confirm-event').required = a.fields.includes('event');
    for (const f of ['#confirm-event', '#confirm-data', '#confirm-reason']) {
        $(f).value = '';
    }
    d.returnValue = '';
    return new Promise((resolve) => {
        d.addEventListener('close', () => resolve(d.returnValue === 'ok'),
                           { once: true });
        d.showModal();
    });
}

async function runAction(action) {
    if (!current || !(await confirmAction(action))) return;
    const id = current.instanceId;
    const base = '/instances/' + encodeURIComponent(id);
    const reason = { reason: $('#confirm-reason').value };
    try {
        if (action === 'raiseEvent') {
            const data = $('#confirm-data').value.trim();
            if (data) JSON.parse(data);     // refuse bad JSON here
            await request('POST', apiUrl(base + '/raiseEvent/'
                + encodeURIComponent($('#confirm-event').value.trim())),
                { body: data });
        } else if (action === 'purge') {
            await request('DELETE', apiUrl(base));
            say(`Purged ${id}.`);
            keepNote = true;
            location.hash = '#/instances';
            return;
        } else if (action === 'restart') {
            const r = await request('POST', apiUrl(base + '/restart', {
                restartWithNewInstanceId: String($('#confirm-newid').checked),
            }));
            const nid = r.data && r.data.id;
            say(`Restarted as ${nid || id}.`);
            if (nid && nid !== id) {
                keepNote = true;
                location.hash = '#/instance/' + encodeURIComponent(nid);
                return;
            }
        } else {
            await request('POST', apiUrl(base + '/' + action, reason));
        }
        await loadInstance(id);
        if (action !== 'restart') say(`${ACTIONS[action].title}: done.`);
    } catch (e) {
        say(e instanceof SyntaxError ? 'The event data is not JSON: '
            + e.message : e.message, 'error');
    }
}

function initInstancePage() {
    for (const b of document.querySelectorAll('[data-action]')) {
        b.addEventListener('click', () => runAction(b.dataset.action));
    }
    $('#refresh').addEventListener('click', () => {
        if (current) loadInstance(current.instanceId);
    });
}

// --- entities -------------------------------------------------------------

const ents = { tokens: [], token: null, next: null };

async function loadEntities(token) {
    const name = $('#entity-name').value.trim();
    const path = '/entities' + (name ? '/' + encodeURIComponent(name) : '');
    try {
        const r = await request('GET', apiUrl(path, {
            fetchState: String($('#fetch-state').checked), top: 50 }),
            { token });
        ents.token = token || null;
        ents.next = r.token;
        const items = Array.isArray(r.data) ? r.data : [];
        const body = $('#entities tbody');
        body.replaceChildren(...items.map((e) => el('tr', {},
            el('td', { text: e.entityId && e.entityId.name }),
            el('td', { text: e.entityId && e.entityId.key }),
            el('td', { text: time(e.lastOperationTime) }),
            el('td', {}, el('pre', { class: 'state', text: json(e.state) })))));
        if (!items.length) {
            body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted',
                text: 'No entities with a state on this page.' })));
        }
        $('#entities-info').textContent = `page ${ents.tokens.length + 1}: `
            + `${items.length} entities`
            + (ents.next ? ', more on the next page' : '');
        $('#entities-next').disabled = !ents.next;
        $('#entities-first').disabled = !ents.tokens.length;
        clearError();
    } catch (e) {
        say(e.message, 'error');
    }
}

function initEntities() {
    $('#entity-filters').addEventListener('submit', (ev) => {
        ev.preventDefault();
        ents.tokens = [];
        loadEntities(null);
    });
    $('#entities-next').addEventListener('click', () => {
        ents.tokens.push(ents.token);
        loadEntities(ents.next);
    });
    $('#entities-first').addEventListener('click', () => {
        ents.tokens = [];
        loadEntities(null);
    });
}

// --- counts from the metrics page (Prometheus text format) ----------------

// samples as { name, labels, value }; comments and bad lines skipped
export function parseMetrics(text) {
    const out = [];
    const line = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const l of text.split('\n')) {
        const m = line.exec(l.trim());
        if (!m || l.startsWith('#')) continue;
        const labels = {};
        for (const lm of (m[2] || '').matchAll(label)) {
            labels[lm[1]] = lm[2].replace(/\\(.)/g,
                (_, c) => (c === 'n' ? '\n' : c));
        }
        const value = Number(m[3]);
        if (!isNaN(value)) out.push({ name: m[1], labels, value });
    }
    return out;
}

// instances by status (a family with "instances" in its name and a status
// label, for the selected hub when it has a hub label), then the totals
// of a few other families: queues, waits, leases, errors. With a hub
// chosen, a family with a hub label counts that hub's samples; one
// without (waits, leases, errors: the server's) is marked "all hubs".
function renderCounts(samples) {
    const box = $('#counts');
    const byStatus = {};
    const totals = new Map();
    const hub = settings.hub || null;
    for (const s of samples) {
        if (/_(bucket|sum|count|created)$/.test(s.name)) continue;
        const st = s.labels.runtime_status ?? s.labels.status;
        const h = s.labels.hub ?? s.labels.task_hub;
        if (/instances/.test(s.name) && st && STATUSES.includes(st)) {
            if (!hub || !h || h === hub) {
                byStatus[st] = (byStatus[st] || 0) + s.value;
            }
            continue;
        }
        if (/queue|wait|lease|error/.test(s.name)) {
            const t = totals.get(s.name) || { value: 0, byHub: false };
            if (h !== undefined) t.byHub = true;
            if (!hub || h === undefined || h === hub) t.value += s.value;
            totals.set(s.name, t);
        }
    }
    const parts = [el('strong', { text: hub ? `Counts (hub ${hub})`
                                              : 'Counts (all hubs)' })];
    for (const s of STATUSES) {
        if (s in byStatus) {
            parts.push(el('span', { class: 'count' }, badge(s),
                el('b', { text: byStatus[s] })));
        }
    }
    for (const [name, t] of [...totals].slice(0, 8)) {
        const v = t.value;
        parts.push(el('span', { class: 'count' },
            el('span', { class: 'muted', text: name.replace(/^durable_/, '')
                + (hub && !t.byHub ? ' (all hubs)' : '') }),
            el('b', { text: Number.isInteger(v) ? v : v.toFixed(3) })));
    }
    if (parts.length === 1) {
        parts.push(el('span', { class: 'muted',
            text: 'the metrics page has no figures yet' }));
    }
    parts.push(el('a', { href: METRICS, text: 'all metrics' }));
    box.replaceChildren(...parts);
}

async function loadCounts() {
    const box = $('#counts');
    try {
        const r = await request('GET', METRICS, { json: false });
        renderCounts(parseMetrics(r.data));
    } catch (e) {
        box.replaceChildren(el('span', { class: 'muted', text:
            e.status === 404 ? `metrics not configured (no ${METRICS}: `
                + 'see durable_task_metrics)' : 'metrics: ' + e.message }));
    }
}

// --- views ----------------------------------------------------------------

// a note survives the one view change its action made (purge, restart)
let keepNote = false;

function route() {
    const h = location.hash || '#/instances';
    if (!keepNote) say('');
    keepNote = false;
    const views = { instances: '#view-instances', instance: '#view-instance',
                    entities: '#view-entities' };
    let view = 'instances';
    if (h.startsWith('#/instance/')) view = 'instance';
    else if (h.startsWith('#/entities')) view = 'entities';
    for (const [k, sel] of Object.entries(views)) $(sel).hidden = k !== view;
    $('#nav-instances').classList.toggle('active', view !== 'entities');
    $('#nav-entities').classList.toggle('active', view === 'entities');
    if (view === 'instance') {
        // a link typed or cut by hand may hold a '%' that escapes nothing
        const raw = h.slice('#/instance/'.length);
        let id = null;
        try {
            id = decodeURIComponent(raw);
        } catch (e) {
            current = null;
            $('#i-id').textContent = raw;
            clearInstance();
            say(`The link's instance id "${raw}" is not a valid `
                + 'percent-encoded id.', 'error');
        }
        if (id !== null) loadInstance(id);
    } else if (view === 'entities') {
        loadEntities(ents.token);
    } else {
        loadInstances(list.token);
    }
}

function init() {
    loadSettings();
    initInstanceList();
    initInstancePage();
    initEntities();
    $('#settings').addEventListener('submit', (ev) => {
        ev.preventDefault();
        saveSettings();
        list.tokens = [];
        list.token = null;
        ents.tokens = [];
        ents.token = null;
        loadCounts();
        route();
    });
    window.addEventListener('hashchange', route);
    loadCounts();
    route();
    document.body.dataset.ready = 'true';
}

init();
