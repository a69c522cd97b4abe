// make test-ui, the browser half (run.sh starts nginx): instances and an
// entity made through the API and the example worker, then the dashboard
// in headless Chromium: the key typed in, the filters (status, created
// range, id prefix, name), paging, an instance page with its history, a
// terminate confirmed in its dialog and checked through the API, suspend,
// resume and purge likewise, the entities, the counts panel.
// Prints one "ok"/"not ok" line per check; exits 1 on the first failure.

'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const SITE = process.env.UI_URL;
const KEY = process.env.UI_KEY;
const WORKER_KEY = process.env.UI_WORKER_KEY;
const OUT = process.env.UI_OUT;
const B = SITE + '/runtime/webhooks/durabletask';
const ROOT = path.resolve(__dirname, '../..');
const WAIT = { timeout: 15000 };

let n = 0;

function ok(cond, what, detail) {
    n += 1;
    if (!cond) {
        console.log(`not ok ${n} - ${what}`);
        if (detail !== undefined) console.log('# ' + detail);
        throw new Error('test-ui failed: ' + what);
    }
    console.log(`ok ${n} - ${what}`);
}

async function api(method, p, body, key = KEY) {
    const res = await fetch(B + p, {
        method,
        headers: Object.assign({ 'x-functions-key': key },
            body === undefined ? {} : { 'Content-Type': 'application/json' }),
        body,
    });
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : null };
}

// the example worker until it has been idle for 2 s (--once)
function runWorker() {
    return new Promise((resolve, reject) => {
        const w = spawn('python3', [
            path.join(ROOT, 'examples/worker/worker.py'), '--url', B,
            '--key', WORKER_KEY, '--once', '--idle', '2', '--wait', '1',
        ], { stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        w.stderr.on('data', (d) => { log += d; });
        w.on('error', reject);
        w.on('exit', (code) => (code === 0 ? resolve()
            : reject(new Error('worker exited ' + code + '\n' + log))));
    });
}

async function seed() {
    const starts = [['HelloSequence', 'ui-seq-1', '"Tokyo"'],
                    ['HelloSequence', 'ui-seq-2', null],
                    ['Approval', 'ui-approval-1', '{"timeout":600}'],
                    ['Approval', 'ui-approval-2', '{"timeout":600}']];
    for (const [name, id, input] of starts) {
        const r = await api('POST', `/orchestrators/${name}/${id}`,
                            input ?? undefined);
        ok(r.status === 202, `start ${name} ${id}`, JSON.stringify(r));
    }
    const s = await api('POST', '/entities/Counter/c1?op=add', '5');
    ok(s.status === 202, 'signal the Counter entity c1');
    await runWorker();
    const seq = await api('GET', '/instances/ui-seq-1');
    ok(seq.data && seq.data.runtimeStatus === 'Completed',
       'the worker completed ui-seq-1', JSON.stringify(seq.data));
    const ap = await api('GET', '/instances/ui-approval-1');
    ok(ap.data && ap.data.runtimeStatus === 'Running',
       'ui-approval-1 waits for its event', JSON.stringify(ap.data));
}

// the instance ids of the list's rows, as shown
function rowIds(page) {
    return page.$$eval('#instances tbody tr[data-id]',
        (trs) => trs.map((tr) => tr.dataset.id).sort());
}

// the counts panel on a metrics page in Prometheus text format; the
// browser gets this one from the test (request interception), whatever
// the example configuration serves
const METRICS_TEXT = `# HELP durable_instances Instances by hub and status.
# TYPE durable_instances gauge
durable_instances{hub="DurableFunctionsHub",runtime_status="Running"} 2
durable_instances{hub="DurableFunctionsHub",runtime_status="Completed"} 7
durable_instances{hub="Other",runtime_status="Running"} 1
# TYPE durable_queue_depth gauge
durable_queue_depth{store="s",hub="DurableFunctionsHub",kind="orchestration"} 4
durable_queue_depth{store="s",hub="Other",kind="activity"} 1
# TYPE durable_waits_open gauge
durable_waits_open 2
# TYPE durable_errors_total counter
durable_errors_total{cause="store_full"} 1
# TYPE durable_commit_seconds histogram
durable_commit_seconds_bucket{le="0.001"} 3
durable_commit_seconds_count 3
`;

async function countsFromMetrics(browser, errors) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setRequestInterception(true);
    page.on('request', (r) => (new URL(r.url()).pathname
        === '/durable/metrics'
        ? r.respond({ status: 200, body: METRICS_TEXT,
                      contentType: 'text/plain; version=0.0.4' })
        : r.continue()));
    const counts = () => page.$$eval('#counts .count', (cs) => cs.map(
        (c) => [...c.children].map((e) => e.textContent).join('=')));

    await page.goto(SITE + '/durable/ui/#/entities');
    await page.waitForSelector('#counts .count', WAIT);
    let got = await counts();
    ok(JSON.stringify(got) === JSON.stringify(
        ['Running=3', 'Completed=7', 'queue_depth=5', 'waits_open=2',
         'errors_total=1']),
       'the counts: instances by status over all hubs, the totals', got);

    // a hub chosen: its instances and queue; the families without a hub
    // label are the whole server's, and say so
    await page.type('#hub', 'Other');
    await page.click('#settings button[type="submit"]');
    await page.waitForFunction(() => /hub Other/.test(
        document.querySelector('#counts').textContent), WAIT);
    got = await counts();
    ok(JSON.stringify(got) === JSON.stringify(
        ['Running=1', 'queue_depth=1', 'waits_open (all hubs)=2',
         'errors_total (all hubs)=1']),
       'the counts of the hub chosen, the server\'s marked all hubs', got);
    await page.screenshot({ path: path.join(OUT, 'counts.png') });
    await page.close();
}

async function main() {
    await seed();

    const metrics = await fetch(SITE + '/durable/metrics',
                                { headers: { 'x-functions-key': KEY } });

    const browser = await puppeteer.launch({
        executablePath: process.env.CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
               '--no-first-run', '--no-default-browser-check'],
    });
    const errors = [];
    try {
        const page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 900 });
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('dialog', (d) => { errors.push('window dialog: '
            + d.message()); d.dismiss(); });

        // without the key the list is refused, and the page says so
        await page.goto(SITE + '/durable/ui/', { waitUntil: 'load' });
        await page.waitForSelector('body[data-ready="true"]', WAIT);
        await page.waitForFunction(() => /401/.test(
            document.querySelector('#message').textContent), WAIT);
        ok(true, 'without a key the page shows the 401');

        // the key, typed in once
        await page.type('#key', KEY);
        await page.click('#settings button[type="submit"]');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 4, WAIT);
        ok(true, 'with the key the list shows the four instances');
        const stored = await page.evaluate(
            () => sessionStorage.getItem('ngx_durable.key'));
        ok(stored === KEY, 'the key is kept in sessionStorage');

        // the counts panel: the metrics page, or that there is none
        const counts = await page.$eval('#counts', (e) => e.textContent);
        if (metrics.status === 404) {
            ok(/metrics not configured/.test(counts),
               'no metrics page: the counts say "metrics not configured"',
               counts);
        } else {
            await page.waitForFunction(() => /Counts/.test(
                document.querySelector('#counts').textContent), WAIT);
            ok(true, 'the counts panel read the metrics page');
        }

        // filter by status: the request carries it, the rows follow it
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().includes('/instances?')
                && r.url().includes('runtimeStatus=Running'), WAIT),
            (async () => {
                await page.click('#filters input[value="Running"]');
                await page.click('#apply');
            })(),
        ]);
        ok(resp.status() === 200, 'the list is asked for Running only');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 2, WAIT);
        let ids = await rowIds(page);
        ok(JSON.stringify(ids) === '["ui-approval-1","ui-approval-2"]',
           'filtered by status: the two Approval instances', ids);

        // the created range: from tomorrow on, nothing; up to tomorrow,
        // the two Running ones again
        const tomorrow = new Date(Date.now() + 86400000).toISOString()
            .slice(0, 19);
        const range = async (sel, want) => {
            await page.$eval(sel, (e, v) => { e.value = v; }, tomorrow);
            const [r] = await Promise.all([
                page.waitForResponse((x) => x.url().includes('/instances?'),
                                     WAIT),
                page.click('#apply'),
            ]);
            await page.waitForFunction((w) => document.querySelectorAll(
                '#instances tbody tr[data-id]').length === w, WAIT, want);
            await page.$eval(sel, (e) => { e.value = ''; });
            return new URL(r.url()).searchParams;
        };
        let q = await range('#created-from', 0);
        ok(q.get('createdTimeFrom') === tomorrow + 'Z',
           'created from tomorrow: asked for, and nothing listed',
           q.toString());
        q = await range('#created-to', 2);
        ok(q.get('createdTimeTo') === tomorrow + 'Z',
           'created up to tomorrow: the two Running instances',
           q.toString());

        // the id prefix, then the name (on the loaded page)
        await page.click('#filters input[value="Running"]');
        await page.type('#id-prefix', 'ui-seq');
        await page.click('#apply');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 2
            && document.querySelector('#instances tbody tr[data-id]')
                .dataset.id.startsWith('ui-seq'), WAIT);
        ok(true, 'filtered by id prefix: the two HelloSequence instances');
        await page.$eval('#id-prefix', (e) => { e.value = ''; });
        await page.click('#apply');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 4, WAIT);
        await page.type('#name-filter', 'approv');
        ids = await rowIds(page);
        ok(JSON.stringify(ids) === '["ui-approval-1","ui-approval-2"]',
           'filtered by name on the page', ids);
        await page.screenshot({ path: path.join(OUT, 'list.png') });

        // paging: three a page, the next page by its token
        await page.$eval('#name-filter', (e) => { e.value = ''; });
        await page.$eval('#top', (e) => { e.value = ''; });
        await page.type('#top', '3');
        await page.click('#apply');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 3
            && !document.querySelector('#next-page').disabled, WAIT);
        const first = await rowIds(page);
        const [next] = await Promise.all([
            page.waitForRequest((r) => r.url().includes('/instances?'),
                                WAIT),
            page.click('#next-page'),
        ]);
        ok(next.headers()['x-ms-continuation-token'],
           'the next page is asked for with the continuation token');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 1, WAIT);
        const second = await rowIds(page);
        ok(!first.includes(second[0]) && first.length === 3,
           'the second page holds the fourth instance', [first, second]);
        await page.click('#first-page');
        await page.waitForFunction(() => document.querySelectorAll(
            '#instances tbody tr[data-id]').length === 3, WAIT);

        // an instance page: fields, payloads, history
        await page.click('#instances a[href="#/instance/ui-approval-1"]');
        await page.waitForFunction(() => document.querySelector('#i-status')
            .textContent === 'Running', WAIT);
        await page.waitForSelector('#timeline li.ev', WAIT);
        const types = await page.$$eval('#timeline .etype',
            (s) => s.map((e) => e.textContent));
        ok(types[0] === 'ExecutionStarted' && types.includes('TimerCreated'),
           'the history timeline of ui-approval-1', types);
        const custom = await page.$eval('#i-custom', (e) => e.textContent);
        ok(/waiting for approval/.test(custom), 'its custom status', custom);
        const input = await page.$eval('#i-input', (e) => e.textContent);
        ok(JSON.parse(input).timeout === 600, 'its input', input);

        // terminate, cancelled first: nothing happens
        await page.click('[data-action="terminate"]');
        await page.waitForSelector('#confirm[open]', WAIT);
        await page.click('#confirm button[value="cancel"]');
        await page.waitForSelector('#confirm:not([open])', WAIT);
        let st = await api('GET', '/instances/ui-approval-1');
        ok(st.data.runtimeStatus === 'Running',
           'a cancelled terminate leaves the instance Running');

        // then confirmed, with a reason
        await page.click('[data-action="terminate"]');
        await page.waitForSelector('#confirm[open]', WAIT);
        await page.type('#confirm-reason', 'stopped from the dashboard');
        await page.click('#confirm-ok');
        await page.waitForFunction(() => document.querySelector('#i-status')
            .textContent === 'Terminated', WAIT);
        ok(true, 'the page shows Terminated after the confirmation');
        st = await api('GET', '/instances/ui-approval-1?showHistory=true');
        ok(st.data.runtimeStatus === 'Terminated'
           && st.data.output === 'stopped from the dashboard',
           'the API says Terminated, with the reason as output',
           JSON.stringify(st.data));
        await page.waitForFunction(() => [...document.querySelectorAll(
            '#timeline .etype')].some((e) => e.textContent
            === 'ExecutionTerminated'), WAIT);
        ok(true, 'the timeline shows ExecutionTerminated');
        await page.screenshot({ path: path.join(OUT, 'instance.png'),
                                fullPage: true });

        // a completed instance: its output and its activities
        await page.goto(SITE + '/durable/ui/#/instance/ui-seq-1');
        await page.waitForFunction(() => document.querySelector('#i-status')
            .textContent === 'Completed', WAIT);
        const out = await page.$eval('#i-output', (e) => e.textContent);
        ok(/Hello Tokyo!/.test(out), 'ui-seq-1 shows its output', out);
        const done = await page.$$eval('#timeline .etype',
            (s) => s.filter((e) => e.textContent === 'TaskCompleted').length);
        const hist = await api('GET', '/instances/ui-seq-1?showHistory=true');
        const want = hist.data.historyEvents.filter(
            (e) => e.EventType === 'TaskCompleted').length;
        ok(want > 0 && done === want,
           `ui-seq-1 shows its ${want} activities`, done);
        ok(await page.$eval('[data-action="purge"]', (b) => !b.disabled)
           && await page.$eval('[data-action="terminate"]',
                               (b) => b.disabled),
           'a terminal instance offers purge, not terminate');

        // suspend and resume ui-approval-2, each confirmed, each checked
        const act = async (action, status) => {
            await page.click(`[data-action="${action}"]`);
            await page.waitForSelector('#confirm[open]', WAIT);
            await page.click('#confirm-ok');
            await page.waitForFunction((s) => document.querySelector(
                '#i-status').textContent === s, WAIT, status);
            const r = await api('GET', '/instances/ui-approval-2');
            ok(r.data.runtimeStatus === status,
               `${action} ui-approval-2: the API says ${status}`,
               JSON.stringify(r.data));
        };
        await page.goto(SITE + '/durable/ui/#/instance/ui-approval-2');
        await page.waitForFunction(() => document.querySelector('#i-status')
            .textContent === 'Running', WAIT);
        await act('suspend', 'Suspended');
        await act('resume', 'Running');

        // a link whose id is not percent-encoding ("100%"): a message in
        // the instance view, no script error (decodeURIComponent throws)
        await page.goto(SITE + '/durable/ui/#/instance/100%');
        await page.waitForFunction(() => !document.querySelector(
            '#view-instance').hidden && /not a valid/.test(
            document.querySelector('#message').textContent), WAIT);
        const said = await page.$eval('#message', (e) => e.textContent);
        ok(/100%/.test(said) && errors.length === 0,
           'a link to instance "100%": a message, no script error',
           JSON.stringify([said, errors]));

        // purge the completed ui-seq-1: back to the list, gone from the API
        await page.goto(SITE + '/durable/ui/#/instance/ui-seq-1');
        await page.waitForFunction(() => document.querySelector('#i-status')
            .textContent === 'Completed', WAIT);
        await page.click('[data-action="purge"]');
        await page.waitForSelector('#confirm[open]', WAIT);
        await page.click('#confirm-ok');
        await page.waitForFunction(() => location.hash === '#/instances'
            && /Purged/.test(document.querySelector('#message').textContent),
            WAIT);
        const gone = await api('GET', '/instances/ui-seq-1');
        ok(gone.status === 404, 'purged ui-seq-1: the API answers 404');

        // entities (the note of the purge goes with the view change)
        await page.click('#nav-entities');
        await page.waitForSelector('#message[hidden]', WAIT);
        await page.waitForFunction(() => [...document.querySelectorAll(
            '#entities tbody td')].some((td) => td.textContent === 'c1'),
            WAIT);
        const row = await page.$$eval('#entities tbody tr',
            (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
        ok(row.some((r) => r[0] === 'counter' && r[1] === 'c1'
                    && JSON.parse(r[3]) === 5),
           'the entities list shows counter c1 with state 5', row);
        await page.screenshot({ path: path.join(OUT, 'entities.png') });

        await countsFromMetrics(browser, errors);
        ok(errors.length === 0, 'no script errors in the pages', errors);
    } finally {
        await browser.close();
    }
    console.log(`1..${n}`);
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
