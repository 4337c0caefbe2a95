// ui.test.mjs - drives the UI in headless Debian chromium (playwright-core)
// against a running `promise serve` (tests/ui/run.sh sets the environment)
// and checks what the pages show against the CLI: `promise freq` for a
// variant, `promise count` for a cohort, the GWAS run's lambda for the QQ
// plot. Times a 1,000,000-variant Manhattan plot in the browser. Writes a
// screenshot of every page. Prints "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(SRC, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const env = k => { if (!process.env[k]) throw new Error(`${k} is not set (run tests/ui/run.sh)`); return process.env[k]; };
const URL = env('UI_URL'), PROMISE = env('PROMISE'), STORE = env('UI_STORE'), SHOTS = env('UI_SHOTS');
const TOK = { steward: env('TOK_STEWARD'), registered: env('TOK_REG'), project: env('TOK_PROJ') };

let passed = 0, failed = 0;
function check(ok, what, detail = '') {
  if (ok) { passed++; console.log(`ok      ${what}`); } else { failed++; console.log(`FAILED  ${what} ${detail}`); }
}
const cli = (...args) => execFileSync(PROMISE, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// `promise freq` rows as objects: {CHROM, POS, ID, REF, ALT, AC, AN, AF, NHOMALT, AC_x, AN_x...}
function freqTable(args) {
  const lines = cli('freq', STORE, ...args).trim().split('\n');
  const head = lines[0].replace(/^#/, '').split('\t');
  return lines.slice(1).map(l => Object.fromEntries(l.split('\t').map((v, i) => [head[i], v])));
}

// How the registered tier must see an allele count (docs/http.md): exact
// when AC >= k and AN - AC is 0 or >= k; "<k" for 1..k-1; hidden otherwise.
const K = 5;
function released(ac, an) {
  if (ac > 0 && ac < K) return `<${K}`;
  if (an - ac > 0 && an - ac < K) return 'hidden';
  return String(ac);
}
const near = (a, b, tol) => Math.abs(a - b) <= tol;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  const shot = async name => { await page.waitForTimeout(150); await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true }); };
  const text = async sel => (await page.locator(sel).first().textContent()).trim();

  // ---- sign in ----
  await page.goto(URL + '/');
  await page.waitForSelector('#token');
  check((await text('#tier-card')).includes('public'), 'without a token the UI says the tier is public');
  await page.fill('#token', 'pmt_not_a_token');
  await page.click('#signin');
  await page.waitForSelector('#signin-msg .error');
  check(/token/i.test(await text('#signin-msg')), 'a bad token is refused with a message', await text('#signin-msg'));
  await page.fill('#token', TOK.registered);
  await page.click('#signin');
  await page.waitForFunction(() => document.querySelector('#who-tier')?.textContent === 'registered');
  const card = await text('#tier-card');
  check(card.includes('rita') && card.includes('registered'), 'signed in as rita, tier registered');
  check(/small counts/.test(card) && /rare alleles/.test(card), 'the UI says why small counts and rare alleles are hidden');
  await shot('signin');

  // ---- a variant: the numbers equal `promise freq` ----
  const all = freqTable(['--region', '22']);
  const common = all.find(r => +r.AC >= 20 && +r.AN - +r.AC >= 20 && r.ID !== '.') || all.find(r => +r.AC >= 20);
  const vid = `${common.CHROM}:${common.POS}:${common.REF}:${common.ALT}`;
  await page.goto(URL + '/#/search');
  await page.fill('#q', vid);
  await page.click('#search-go');
  await page.waitForSelector('#variant-summary');
  const ac = await text('#variant-summary td.ac'), an = await text('#variant-summary td.an');
  const af = await text('#variant-summary td.af'), hom = await text('#variant-summary td.hom');
  check(ac === common.AC && an === common.AN, `variant ${vid}: AC ${ac} AN ${an} equal promise freq`, `(freq: ${common.AC} ${common.AN})`);
  check(near(parseFloat(af), parseFloat(common.AF), 5e-4 * parseFloat(common.AF)), `AF ${af} equals promise freq ${common.AF}`);
  const h = +common.NHOMALT, wantHom = h > 0 && h < K ? `<${K}` : String(h);
  check(hom === wantHom, `homozygotes ${hom} as released from promise freq ${h}`);
  const bySex = freqTable(['--region', `${common.CHROM}:${common.POS}-${common.POS}`, '--by', 'sex']).find(r => r.REF === common.REF && r.ALT === common.ALT);
  const sexRows = await page.locator('#table-sex tbody tr').allTextContents();
  for (const s of ['F', 'M']) {
    const row = await page.locator('#table-sex tbody tr', { hasText: new RegExp('^' + s) }).locator('td').allTextContents();
    const want = released(+bySex['AC_' + s], +bySex['AN_' + s]);
    check(row[1] === want && row[2] === bySex['AN_' + s], `by sex ${s}: AC ${row[1]} AN ${row[2]} as released from promise freq --by sex`, `(want ${want} ${bySex['AN_' + s]}; rows ${sexRows})`);
  }
  const byCounty = freqTable(['--region', `${common.CHROM}:${common.POS}-${common.POS}`, '--by', 'county']).find(r => r.REF === common.REF && r.ALT === common.ALT);
  const countyRows = await page.locator('#table-county tbody tr').allTextContents();
  const nCounties = Object.keys(byCounty).filter(k => k.startsWith('AC_')).length;
  check(countyRows.length === nCounties, `by county: ${countyRows.length} rows, as promise freq --by county has ${nCounties}`);
  await shot('variant');

  if (common.ID && common.ID !== '.') {
    await page.goto(URL + '/#/search');
    await page.fill('#q', common.ID);
    await page.click('#search-go');
    await page.waitForFunction(v => location.hash === '#/variant/' + v, `${common.CHROM}-${common.POS}-${common.REF}-${common.ALT}`);
    check(true, `rsID ${common.ID} finds the same variant`);
  }

  // ---- a region: paged, sortable ----
  const region = `${common.CHROM}:${+common.POS - 200000}-${+common.POS + 200000}`;
  const inRegion = freqTable(['--region', region]).length;
  await page.goto(URL + '/#/region/' + encodeURIComponent(region));
  await page.waitForSelector('#region-table');
  check((await text('#region-count')).startsWith(`${inRegion} variants`), `region ${region}: ${inRegion} variants as promise freq`);
  await page.click('th.sortable:has-text("AF")');
  await page.waitForFunction(() => /AF ▲/.test((document.querySelector('#region-table thead')?.textContent || '')));
  await page.click('th.sortable:has-text("AF")');
  await page.waitForFunction(() => /AF ▼/.test((document.querySelector('#region-table thead')?.textContent || '')));
  const afs = (await page.locator('#region-table tbody tr td:nth-child(6)').allTextContents()).map(t => (t === 'hidden' ? -1 : parseFloat(t)));
  check(afs.length > 1 && afs.every((v, i) => i === 0 || afs[i - 1] >= v), 'sorting by AF, descending, orders the page by the shown AF', afs.join(' '));
  await shot('region');

  // ---- the cohort builder: the count equals `promise count` ----
  const expr = 'icd10:E11 and age>=50';
  const want = JSON.parse(cli('count', STORE, '--cohort', expr, '--as-tier', 'registered', '--json')).count;
  await page.goto(URL + '/#/cohort');
  await page.waitForSelector('#cohort-expr');
  await page.fill('#cohort-expr', 'sex=F and (');
  await page.waitForSelector('#cohort-error');
  const caret = await page.locator('#cohort-caret').textContent();
  check(/column 12/.test(await text('#cohort-error')) && caret === ' '.repeat(11) + '^', 'a syntax error points at its column', `(${await text('#cohort-error')} caret ${JSON.stringify(caret)})`);
  await page.fill('#cohort-expr', expr);
  await page.waitForFunction(w => document.querySelector('#cohort-count').textContent === String(w), want, { timeout: 10000 }).catch(() => {});
  const shown = await text('#cohort-count');
  check(shown === String(want), `cohort '${expr}': count ${shown} equals promise count --as-tier registered (${want})`);
  check((await text('#cohort-cli')).includes(`--cohort '${expr}'`), 'the expression is shown for the CLI');
  await page.waitForTimeout(800); // the breakdown charts
  await shot('cohort');

  // ---- steward: association, audit ----
  await page.evaluate(t => localStorage.setItem('promise.token', t), TOK.steward);
  await page.goto(URL + '/#/gwas/t2d');
  await page.reload();
  await page.waitForSelector('#manhattan');
  await page.waitForSelector('#top-hits tbody tr');
  const log = readFileSync(path.join(STORE, 'results', 't2d.log'), 'utf8');
  const lamLog = parseFloat(/lambda=([0-9.]+)/.exec(log)[1]);
  const lamShown = parseFloat(/λ = ([0-9.]+)/.exec(await text('#lambda'))[1]);
  check(near(lamShown, lamLog, 0.005), `QQ lambda ${lamShown} equals the run's lambda ${lamLog}`);
  const nRows = readFileSync(path.join(STORE, 'results', 't2d.tsv'), 'utf8').trim().split('\n').slice(1).filter(l => /^(0|1|0?\.\d+|\d\.?\d*e-?\d+)$/i.test(l.split('\t')[11])).length;
  check((await text('#manhattan-info')).startsWith(`${nRows.toLocaleString()} variants drawn`), `the Manhattan plot draws all ${nRows} tested variants`);
  const box = await page.locator('#manhattan').boundingBox();
  await page.mouse.move(box.x + 300, box.y + 100);
  await page.mouse.down();
  await page.mouse.move(box.x + 400, box.y + 100);
  await page.mouse.up();
  const zoomed = await text('#manhattan-info');
  check(/zoomed to \S+:\d+–\S+:\d+/.test(zoomed), 'dragging zooms into a region', zoomed);
  await page.dblclick('#manhattan');
  check(!/zoomed/.test(await text('#manhattan-info')), 'a double-click zooms out');
  await shot('manhattan');
  const first = await page.locator('#top-hits tbody tr a').first();
  const href = await first.getAttribute('href');
  await first.click();
  await page.waitForSelector('#variant-summary');
  check(await page.evaluate(h => location.hash === h, href), `a top hit opens its variant page (${href})`);

  // ---- a Manhattan plot of 1,000,000 variants, timed in the browser ----
  const times = await page.evaluate(() => {
    const { plot } = window.promiseUI;
    const d = plot.synthetic(1000000);
    const c = document.createElement('canvas');
    document.body.append(c);
    const out = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      plot.manhattan(c, d, { width: 980, height: 320 });
      c.getContext('2d').getImageData(0, 0, 1, 1); // wait for the pixels
      out.push(performance.now() - t0);
    }
    c.remove();
    return out;
  });
  // The median of three renders must be under a second (the first also
  // compiles the loop; a loaded 2-core machine adds noise, so the worst
  // is printed and only kept under two seconds).
  const sorted = times.slice().sort((a, b) => a - b), median = sorted[1], worst = sorted[2];
  console.log(`manhattan 1,000,000 variants: ${times.map(t => t.toFixed(1)).join(', ')} ms (3 renders; median ${median.toFixed(1)})`);
  check(median < 1000 && worst < 2000, `a 1,000,000-variant Manhattan plot renders in under a second (median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms)`);

  if (process.env.UI_PHEWAS) {
    const name = process.env.UI_PHEWAS;
    const tsv = readFileSync(path.join(STORE, 'results', name + '.tsv'), 'utf8').trim().split('\n');
    const iP = tsv[0].split('\t').indexOf('P');
    const tested = tsv.slice(1).filter(l => /^[0-9.e-]+$/i.test(l.split('\t')[iP])).length;
    await page.goto(URL + '/#/gwas');
    await page.click(`a[href="#/phewas/${name}"]`);
    await page.waitForSelector('#phewas-table');
    const rows = await page.locator('#phewas-table tbody tr').count();
    check(rows === tested && rows > 0, `the PheWAS page shows the ${tested} endpoints promise phewas tested`, `(${rows})`);
    await shot('phewas');
  }

  await page.goto(URL + '/#/steward');
  await page.waitForSelector('#audit-status');
  check((await text('#audit-status')).includes('The hash chain verifies'), 'the steward page shows the audit chain verified');
  const verify = cli('audit', 'verify', STORE);
  check(/ok|verif/i.test(verify), 'promise audit verify agrees');
  await shot('steward');

  // ---- project tier: omics, saved cohorts ----
  await page.evaluate(t => localStorage.setItem('promise.token', t), TOK.project);
  await page.goto(URL + '/#/cohort');
  await page.reload();
  await page.waitForSelector('#save-name');
  await page.fill('#save-name', 'older diabetics');
  await page.click('#save-cohort');
  await page.waitForSelector('#saved-table');
  check((await text('#saved-table')).includes('older diabetics'), 'a cohort is saved for the project');
  await page.goto(URL + '/#/omics');
  await page.waitForSelector('#omics-feature option', { state: 'attached' });
  await page.waitForFunction(() => document.querySelector('#omics-out b'));
  await page.waitForTimeout(300);
  check((await text('#omics-out')).includes('people'), 'the omics page shows a distribution');
  await shot('omics');

  check(errors.length === 0, 'no JavaScript errors on any page', errors.join('; '));
} catch (e) {
  failed++;
  console.log(`FAILED  ${e.message.split('\n')[0]}`);
  const pages = browser.contexts().flatMap(c => c.pages());
  if (pages.length) {
    console.log(`        at ${pages[0].url()}: ${(await pages[0].locator('main').textContent()).slice(0, 400)}`);
    await pages[0].screenshot({ path: path.join(SHOTS, 'failure.png') });
  }
} finally {
  await browser.close();
}
console.log(`ui: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
