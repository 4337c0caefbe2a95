// app.js - the promise browser UI: a hash router and one function per page.
// Talks only to the server's /api/v1 routes with the user's bearer token
// (kept in localStorage); every request is checked and audited there.
import * as plot from '/ui/plots.js';

const app = document.getElementById('app');
const TOKEN_KEY = 'promise.token';
let me = null; // /api/v1/me

// ---- helpers ----

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'html') e.innerHTML = v;
    else if (v != null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  const tok = localStorage.getItem(TOKEN_KEY);
  if (tok) headers.Authorization = 'Bearer ' + tok;
  const res = await fetch(path, Object.assign({}, opts, { headers }));
  const ct = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    let msg = res.statusText;
    if (ct.includes('json')) { try { const j = await res.json(); msg = (j.error && (j.error.message || j.error.errorMessage)) || msg; } catch (e) { /* keep */ } }
    throw new ApiError(res.status, msg);
  }
  return ct.includes('json') ? res.json() : res.text();
}

const qs = o => Object.entries(o).filter(([, v]) => v != null).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

function show(...nodes) { app.replaceChildren(...nodes); }
function errorBox(e) { return h('p', { class: 'error' }, e.status ? `${e.status}: ${e.message}` : String(e.message || e)); }
function cellText(v, k) { return v == null ? 'hidden' : typeof v === 'number' ? plot.fmt(v) : v; }

function hiddenNotes(extra) {
  if (!me || !me.hidden.length) return null;
  return h('div', { class: 'hidden-note' }, h('b', {}, `What the ${me.tier} tier does not show: `),
    h('ul', {}, me.hidden.concat(extra || []).map(t => h('li', {}, t))));
}

let tooltip = null;
function tip(x, y, text) {
  if (!tooltip) { tooltip = h('div', { class: 'tooltip' }); document.body.append(tooltip); }
  if (text == null) { tooltip.style.display = 'none'; return; }
  tooltip.textContent = text;
  tooltip.style.left = x + 12 + 'px';
  tooltip.style.top = y + 12 + 'px';
  tooltip.style.display = 'block';
}

// ---- sign-in ----

async function loadMe() {
  try { me = await api('/api/v1/me'); } catch (e) {
    if (e.status === 401) { localStorage.removeItem(TOKEN_KEY); me = await api('/api/v1/me'); me.error = e.message; } else throw e;
  }
  const who = document.getElementById('who');
  who.replaceChildren(h('span', { id: 'who-user' }, `${me.user} · `), h('span', { class: 'pill', id: 'who-tier' }, me.tier),
    localStorage.getItem(TOKEN_KEY) ? h('button', { class: 'secondary', onclick: () => { localStorage.removeItem(TOKEN_KEY); loadMe().then(route); } }, 'Sign out')
      : h('button', { class: 'secondary', onclick: () => { location.hash = '#/'; } }, 'Sign in'));
}

function pageHome() {
  const input = h('input', { type: 'password', id: 'token', placeholder: 'pmt_…', size: 60, autocomplete: 'off' });
  const msg = h('p', { id: 'signin-msg' }, me.error ? h('span', { class: 'error' }, me.error) : '');
  const go = async () => {
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    try { me = null; await loadMe(); if (me.error) { msg.replaceChildren(h('span', { class: 'error' }, me.error)); return; } route(); } catch (e) { msg.replaceChildren(errorBox(e)); }
  };
  input.addEventListener('keydown', e => { if (e.key === 'Enter') go(); });
  const allows = me.allows;
  show(
    h('h1', {}, 'promise — national precision-omics database'),
    h('div', { class: 'card' },
      h('h2', {}, 'Sign in with a token'),
      h('p', { class: 'muted' }, 'A token comes from the data steward (promise token new STORE USER). Without one you have the public tier.'),
      input, ' ', h('button', { id: 'signin', onclick: go }, 'Sign in'), msg),
    h('div', { class: 'card', id: 'tier-card' },
      h('h2', {}, `You are ${me.user}, tier `, h('span', { class: 'pill' }, me.tier)),
      h('table', {}, h('tbody', {},
        [['Variant frequencies', allows.freq], ['Cohort counts and breakdowns', allows.count], ['GWAS results', allows.gwas],
          ['Omics distributions', allows.omics], ['Per-individual omics trajectories, saved cohorts', allows.trajectories], ['Projects, grants, audit log', allows.steward]]
          .map(([t, ok]) => h('tr', {}, h('td', {}, t), h('td', { class: ok ? 'ok' : 'error' }, ok ? 'yes' : 'no'))))),
      me.projects.length ? h('p', {}, 'Projects: ', me.projects.join(', ')) : null,
      h('p', { class: 'muted' }, `Small-count threshold k = ${me.k}; an allele needs ${me.beacon_min_ac} copies to be shown to the public.`),
      hiddenNotes()),
  );
}

// ---- variants ----

function searchBox(initial = '') {
  const input = h('input', { type: 'text', id: 'q', value: initial, size: 40, placeholder: '22:16050075:A:G, 22:16050075, rs12345 or 22:16000000-16500000' });
  const go = () => { if (input.value.trim()) location.hash = '#/search/' + encodeURIComponent(input.value.trim()); };
  input.addEventListener('keydown', e => { if (e.key === 'Enter') go(); });
  return h('div', { class: 'card' }, input, ' ', h('button', { id: 'search-go', onclick: go }, 'Search'),
    h('p', { class: 'muted help' }, 'CHR:POS:REF:ALT (or CHR-POS-REF-ALT), CHR:POS, an rsID, or a region CHR:BEG-END.'));
}

async function pageSearch(q) {
  show(h('h1', {}, 'Variants'), searchBox(q || ''), h('div', { id: 'results' }));
  if (!q) return;
  const out = document.getElementById('results');
  try {
    const r = await api('/api/v1/search?' + qs({ q }));
    if (r.kind === 'region') { location.hash = '#/region/' + encodeURIComponent(r.region); return; }
    if (r.variants.length === 1) { location.hash = '#/variant/' + r.variants[0].variant; return; }
    out.replaceChildren(r.variants.length ? h('div', { class: 'card' }, h('h2', {}, `${r.variants.length} variants`),
      h('ul', {}, r.variants.map(v => h('li', {}, h('a', { href: '#/variant/' + v.variant }, v.variant), v.id !== '.' ? ` (${v.id})` : ''))))
      : h('p', {}, 'No variant matches.'));
  } catch (e) { out.replaceChildren(errorBox(e)); }
}

function freqRows(obj) {
  return Object.entries(obj).map(([k, v]) => ({ label: k, v })).sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
}

async function pageVariant(id) {
  show(h('h1', {}, 'Variant ', h('span', { class: 'mono' }, id)), h('p', {}, 'Loading…'));
  let v;
  try { v = await api('/api/v1/freq/' + encodeURIComponent(id)); } catch (e) { show(h('h1', {}, 'Variant ' + id), searchBox(), errorBox(e)); return; }
  const num = (x, cls) => h('td', { class: 'num ' + (cls || '') }, cellText(x));
  const summary = h('table', { id: 'variant-summary' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', { class: 'num' }, 'AC'), h('th', { class: 'num' }, 'AN'), h('th', { class: 'num' }, 'AF'), h('th', { class: 'num' }, 'Homozygotes'))),
    h('tbody', {}, h('tr', {}, h('td', {}, 'All'), num(v.AC, 'ac'), num(v.AN, 'an'), num(v.AF, 'af'), num(v.NHOMALT, 'hom'))));
  const strata = [];
  for (const [by, title] of [['sex', 'By sex'], ['county', 'By county'], ['source', 'By source']]) {
    const rows = freqRows(v.by[by] || {});
    const cv = h('canvas', { id: 'chart-' + by });
    strata.push(h('div', { class: 'card' }, h('h2', {}, title),
      h('div', { class: 'row' },
        h('table', { id: 'table-' + by, style: 'flex:1 1 260px' }, h('thead', {}, h('tr', {}, h('th', {}, by), h('th', { class: 'num' }, 'AC'), h('th', { class: 'num' }, 'AN'), h('th', { class: 'num' }, 'AF'))),
          h('tbody', {}, rows.map(r => h('tr', {}, h('td', {}, r.label), num(r.v.AC), num(r.v.AN), num(r.v.AF))))),
        h('div', { style: 'flex:1 1 360px' }, cv))));
    requestAnimationFrame(() => plot.barChart(cv, rows.map(r => ({ label: r.label, value: r.v.AF, note: r.v.AC == null ? 'hidden' : `AC ${r.v.AC}` })), { width: 380 }));
  }
  show(h('h1', {}, 'Variant ', h('span', { class: 'mono', id: 'variant-id' }, v.variant), v.id && v.id !== '.' ? h('span', { class: 'muted' }, ' ' + v.id) : ''),
    h('div', { class: 'card' }, summary,
      h('p', { class: 'muted' }, `Tier ${v.tier}: allele counts below ${v.threshold} are shown as "<${v.threshold}" below the project tier. `,
        h('a', { href: '#/region/' + encodeURIComponent(`${v.chrom}:${Math.max(1, v.pos - 50000)}-${v.pos + 50000}`) }, 'Variants nearby'),
        ' · ', h('span', { class: 'mono' }, `promise freq STORE --region ${v.chrom}:${v.pos}`))),
    ...strata, hiddenNotes());
}

async function pageRegion(region, offset = 0, sort = 'pos') {
  const limit = 25;
  show(h('h1', {}, 'Region ', h('span', { class: 'mono' }, region)), searchBox(region), h('p', {}, 'Loading…'));
  let r;
  try { r = await api('/api/v1/region?' + qs({ region, offset, limit, sort })); } catch (e) { show(h('h1', {}, 'Region ' + region), searchBox(region), errorBox(e)); return; }
  const go = (o, s) => pageRegion(region, o, s);
  const sortHead = (key, label) => h('th', { class: 'sortable num', onclick: () => go(0, sort === key ? '-' + key : key) }, label, sort === key ? ' ▲' : sort === '-' + key ? ' ▼' : '');
  const table = h('table', { id: 'region-table' },
    h('thead', {}, h('tr', {}, sortHead('pos', 'Position'), h('th', {}, 'Variant'), h('th', {}, 'ID'), h('th', { class: 'num' }, 'AC'), h('th', { class: 'num' }, 'AN'), sortHead('af', 'AF'), h('th', { class: 'num' }, 'Hom'))),
    h('tbody', {}, r.rows.map(w => h('tr', {}, h('td', { class: 'num' }, w.pos), h('td', {}, h('a', { href: '#/variant/' + w.variant, class: 'mono' }, w.variant)), h('td', {}, w.id),
      h('td', { class: 'num' }, cellText(w.AC)), h('td', { class: 'num' }, cellText(w.AN)), h('td', { class: 'num' }, cellText(w.AF)), h('td', { class: 'num' }, cellText(w.NHOMALT))))));
  const last = Math.min(r.total, offset + limit);
  show(h('h1', {}, 'Region ', h('span', { class: 'mono' }, region)), searchBox(region),
    h('div', { class: 'card' }, h('p', { id: 'region-count' }, `${r.total} variants; showing ${r.total ? offset + 1 : 0}–${last}, sorted by ${sort.replace(/^-(.*)/, '$1, descending')}. A hidden AF sorts as the lowest, in position order.`),
      table,
      h('p', {}, h('button', { class: 'secondary', disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit), sort) }, '‹ Previous'), ' ',
        h('button', { class: 'secondary', id: 'next-page', disabled: last >= r.total, onclick: () => go(offset + limit, sort) }, 'Next ›'))),
    hiddenNotes());
}

// ---- cohort builder ----

const GRAMMAR = [
  ['sex=F', 'sex=M or sex=F'], ['age>=50', 'age>=N, age<N at the reference date'], ['born:1950..1960', 'birth year (range)'],
  ['county:1', 'county code'], ['alive', 'alive and living in Sweden'], ['icd10:E11', 'an ICD-10 diagnosis (prefix)'],
  ['atc:A10BA02', 'a dispensed drug (ATC prefix)'], ['kva:', 'a procedure'], ['endpoint:T2D', 'a registry endpoint'],
  ['source:SCAPIS', 'a sample source'], ['assay:olink', 'has samples of an assay'], ['omics:olink:IL6>4', 'an omics value threshold'],
  ['carrier(22:16050075:A:G)', 'carries an allele'], ['and / or / not ( )', 'combine (not binds tighter than and, and than or)'],
  ['X within 1y after first Y', 'time windows: within N d/w/m/y after/before, first/last/any'],
];

async function pageCohort() {
  const expr = h('textarea', { class: 'expr', id: 'cohort-expr', spellcheck: 'false' });
  expr.value = sessionStorage.getItem('promise.cohort') || 'icd10:E11 and age>=50';
  const caret = h('pre', { class: 'caret', id: 'cohort-caret' });
  const status = h('div', { id: 'cohort-status' });
  const count = h('div', { class: 'big', id: 'cohort-count' }, '…');
  const cli = h('pre', { class: 'mono', id: 'cohort-cli' });
  const charts = { sex: h('canvas', { id: 'chart-sex' }), 'age-band': h('canvas', { id: 'chart-age-band' }), county: h('canvas', { id: 'chart-county' }) };
  const saved = h('div', { id: 'saved' });
  let seq = 0, timer = null;
  const insert = s => { expr.value = expr.value.trim() ? expr.value.trim() + ' and ' + s : s; expr.dispatchEvent(new Event('input')); };
  const help = h('div', { class: 'help' }, h('b', {}, 'Grammar'), h('table', {}, h('tbody', {},
    GRAMMAR.map(([ex, what]) => h('tr', {}, h('td', {}, h('code', { style: 'cursor:pointer', title: 'insert', onclick: () => insert(ex) }, ex)), h('td', {}, what))))),
  h('p', { class: 'muted' }, 'Names with spaces go in double quotes: source:"GMS Stockholm". See docs/cohort.md.'));

  async function update() {
    const my = ++seq, e = expr.value;
    sessionStorage.setItem('promise.cohort', e);
    cli.textContent = `promise count STORE --cohort '${e.replace(/'/g, "'\\''")}' --by sex`;
    if (!me.allows.count) { status.replaceChildren(h('p', { class: 'error' }, 'The public tier gets no cohort counts: sign in with a registered token.')); count.textContent = '—'; return; }
    try {
      const r = await api('/api/v1/count?' + qs({ cohort: e }));
      if (my !== seq) return;
      caret.textContent = '';
      status.replaceChildren(h('span', { class: 'ok' }, 'valid'), h('span', { class: 'muted' }, ` · normalised: ${r.cohort} · reference date ${r.reference_date}`));
      count.textContent = cellText(r.count);
      for (const by of Object.keys(charts)) {
        api('/api/v1/count?' + qs({ cohort: e, by })).then(b => {
          if (my !== seq) return;
          plot.barChart(charts[by], b.cells.filter(c => c[by] != null).map(c => ({ label: c[by], value: typeof c.count === 'number' ? c.count : null, note: c.count == null ? 'hidden' : c.count })), { width: 300, left: 60 });
        }).catch(() => {});
      }
    } catch (err) {
      if (my !== seq) return;
      count.textContent = '—';
      const m = /column (\d+)/.exec(err.message);
      caret.textContent = m ? ' '.repeat(Math.max(0, +m[1] - 1)) + '^' : '';
      status.replaceChildren(h('span', { class: 'error', id: 'cohort-error' }, err.message));
    }
  }
  expr.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, 250); });

  async function loadSaved() {
    if (!me.allows.trajectories) { saved.replaceChildren(h('p', { class: 'muted' }, 'Saved cohorts belong to projects: project tier and above.')); return; }
    const name = h('input', { type: 'text', id: 'save-name', placeholder: 'name', size: 20 });
    const proj = h('select', { id: 'save-project' }, me.projects.map(p => h('option', {}, p)));
    const msg = h('span', {});
    try {
      const r = await api('/api/v1/cohorts');
      saved.replaceChildren(
        h('p', {}, name, ' ', me.projects.length ? proj : h('span', { class: 'muted' }, '(no project grant)'), ' ',
          h('button', { id: 'save-cohort', onclick: async () => {
            try { await api('/api/v1/cohorts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: name.value, expression: expr.value, project: proj.value || undefined }) }); loadSaved(); } catch (e) { msg.replaceChildren(errorBox(e)); }
          } }, 'Save'), ' ', msg),
        r.cohorts.length ? h('table', { id: 'saved-table' }, h('thead', {}, h('tr', {}, ['Project', 'Name', 'Expression', 'By', 'Saved'].map(t => h('th', {}, t)))),
          h('tbody', {}, r.cohorts.map(c => h('tr', {}, h('td', {}, c.project), h('td', {}, h('a', { href: '#/cohort', onclick: () => { expr.value = c.expression; update(); } }, c.name)), h('td', { class: 'mono' }, c.expression), h('td', {}, c.who), h('td', {}, c.at)))))
          : h('p', { class: 'muted' }, 'No saved cohorts yet.'));
    } catch (e) { saved.replaceChildren(errorBox(e)); }
  }

  show(h('h1', {}, 'Cohort builder'),
    h('div', { class: 'row' },
      h('div', { class: 'card', style: 'flex:2 1 520px' }, h('label', { for: 'cohort-expr' }, 'Cohort expression'), expr, caret, status,
        h('h2', {}, 'People'), count, h('h2', {}, 'The same in the CLI'), cli),
      h('div', { class: 'card', style: 'flex:1 1 300px' }, help)),
    h('div', { class: 'row' }, ['sex', 'age-band', 'county'].map(by => h('div', { class: 'card' }, h('h2', {}, 'By ' + by), charts[by]))),
    h('div', { class: 'card' }, h('h2', {}, 'Saved cohorts'), saved),
    hiddenNotes());
  update();
  loadSaved();
}

// ---- association ----

const gwasCache = new Map();

async function loadGwas(name) {
  if (!gwasCache.has(name)) gwasCache.set(name, plot.parseGwas(await api('/api/v1/gwas/' + encodeURIComponent(name))));
  return gwasCache.get(name);
}

async function pageGwas(name) {
  let list;
  try { list = await api('/api/v1/gwas'); } catch (e) { show(h('h1', {}, 'Association'), errorBox(e), hiddenNotes()); return; }
  const gw = list.results.filter(r => !r.phewas), pw = list.results.filter(r => r.phewas);
  const pick = h('div', { class: 'card' }, h('h2', {}, 'Stored GWAS runs (STORE/results)'),
    gw.length ? h('ul', {}, gw.map(r => h('li', {}, r.allowed ? h('a', { href: '#/gwas/' + encodeURIComponent(r.name) }, r.name) : r.name, ` · released for ${r.tier}`, r.allowed ? '' : ' (not for your tier)')))
      : h('p', { class: 'muted' }, 'None yet: promise gwas STORE --pheno … -o STORE/results/NAME stores one here.'),
    pw.length ? h('p', {}, 'PheWAS: ', pw.map(r => h('a', { href: '#/phewas/' + encodeURIComponent(r.name) }, r.name + ' '))) : null);
  if (!name && gw.length) name = gw.find(r => r.allowed)?.name;
  if (!name) { show(h('h1', {}, 'Association'), pick); return; }
  show(h('h1', {}, 'Association: ', name), pick, h('p', {}, 'Loading…'));
  let d;
  try { d = await loadGwas(name); } catch (e) { show(h('h1', {}, 'Association: ' + name), pick, errorBox(e)); return; }
  const man = h('canvas', { id: 'manhattan' }), qqc = h('canvas', { id: 'qq' });
  const info = h('p', { class: 'muted', id: 'manhattan-info' });
  let view = null, lay = null;
  const draw = () => {
    const t0 = performance.now();
    lay = plot.manhattan(man, d, { width: 980, height: 320, view });
    const zoom = view && lay.i1 > lay.i0 ? ` zoomed to ${d.chroms[d.chromIdx[lay.i0]]}:${d.pos[lay.i0]}–${d.chroms[d.chromIdx[lay.i1 - 1]]}:${d.pos[lay.i1 - 1]} (${lay.i1 - lay.i0} variants).` : '';
    info.textContent = `${d.n.toLocaleString()} variants drawn in ${(performance.now() - t0).toFixed(0)} ms.${zoom} Drag to zoom into a region, double-click to zoom out, hover for the variant, click to open it.`;
  };
  let dragFrom = null;
  const mx = e => e.clientX - man.getBoundingClientRect().left, my = e => e.clientY - man.getBoundingClientRect().top;
  man.addEventListener('mousedown', e => { dragFrom = mx(e); });
  man.addEventListener('mouseup', e => {
    const to = mx(e);
    if (dragFrom != null && Math.abs(to - dragFrom) > 5) {
      const gx = px => lay.x0 + ((px - lay.L) / (lay.w - lay.L - lay.R)) * (lay.x1 - lay.x0);
      view = { x0: gx(Math.min(dragFrom, to)), x1: gx(Math.max(dragFrom, to)) };
      draw();
    } else {
      const i = plot.manhattanHit(d, lay, to, my(e));
      if (i >= 0) location.hash = '#/variant/' + d.variant[i];
    }
    dragFrom = null;
  });
  man.addEventListener('dblclick', () => { view = null; draw(); });
  man.addEventListener('mousemove', e => {
    const i = plot.manhattanHit(d, lay, mx(e), my(e));
    tip(e.clientX, e.clientY, i >= 0 ? `${d.ids[i]} (${d.variant[i]}) P = ${d.p[i].toExponential(2)}` : null);
  });
  man.addEventListener('mouseleave', () => tip(0, 0, null));
  const order = Array.from(d.p.keys()).sort((a, b) => d.p[a] - d.p[b]).slice(0, 20);
  const top = h('table', { id: 'top-hits' }, h('thead', {}, h('tr', {}, ['Variant', 'ID', 'BETA', 'P'].map(t => h('th', {}, t)))),
    h('tbody', {}, order.map(i => h('tr', {}, h('td', {}, h('a', { href: '#/variant/' + d.variant[i], class: 'mono' }, d.variant[i])), h('td', {}, d.ids[i] !== d.variant[i] ? d.ids[i] : ''), h('td', { class: 'num' }, plot.fmt(d.beta[i])), h('td', { class: 'num' }, plot.fmtP(d.p[i]))))));
  const lam = h('p', { id: 'lambda' });
  show(h('h1', {}, 'Association: ', name), pick,
    h('div', { class: 'card' }, h('h2', {}, 'Manhattan plot'), h('div', { class: 'plotwrap' }, man), info),
    h('div', { class: 'row' }, h('div', { class: 'card' }, h('h2', {}, 'QQ plot'), qqc, lam), h('div', { class: 'card', style: 'flex:2 1 520px' }, h('h2', {}, 'Top hits'), top)));
  draw();
  const l = plot.qq(qqc, d.p, { width: 320, height: 320 });
  // The run's own lambda (over every tested row, withheld ones included) from its log.
  const entry = list.results.find(r => r.name === name);
  const line = entry && entry.log ? entry.log.split('\n').find(x => x.startsWith('pheno\t') && x.includes(`/${name}.tsv`) || x.includes(`file=${name}.tsv`)) : null;
  const runLam = line && /lambda=([0-9.]+|NA)/.exec(line);
  lam.textContent = `Genomic-control λ = ${isFinite(l) ? l.toFixed(3) : 'NA'} over the ${d.n} rows shown` +
    (runLam ? `; the run's log gives λ = ${runLam[1]} over every tested row.` : '.');
}

async function pagePhewas(name) {
  show(h('h1', {}, 'PheWAS: ', name), h('p', {}, 'Loading…'));
  let text;
  try { text = await api('/api/v1/gwas/' + encodeURIComponent(name)); } catch (e) { show(h('h1', {}, 'PheWAS'), errorBox(e)); return; }
  // A `promise phewas` table: #ENDPOINT CHAPTER N_CASES N_CONTROLS OBS_CT
  // BETA OR SE Z P TEST DESCRIPTION (CHAPTER a roman numeral or 'other').
  // Other tables work when they have a P column and an ICD-10 code column.
  const lines = text.split('\n').filter(Boolean);
  const head = lines[0].replace(/^#/, '').split('\t').map(s => s.toUpperCase());
  const col = (...names) => names.map(c => head.indexOf(c)).find(i => i >= 0);
  const iP = col('P'), iCh = col('CHAPTER'), iCode = col('ICD10', 'CODE'), iName = col('ENDPOINT', 'PHENO', 'NAME'), iDesc = col('DESCRIPTION');
  const iOr = col('OR'), iCases = col('N_CASES');
  const chapterOf = f => iCh != null ? plot.ICD10_CHAPTERS.findIndex(c => c[0] === f[iCh]) : plot.icdChapter(f[iCode]);
  const rows = lines.slice(1).map(l => l.split('\t')).filter(f => +f[iP] >= 0 && f[iP] !== '' && f[iP] !== 'NA')
    .map(f => ({ ch: chapterOf(f), code: iCode != null ? f[iCode] : (iCh != null ? f[iCh] : ''), label: f[iName] || '', desc: iDesc != null ? f[iDesc] : '', p: +f[iP], or: iOr != null ? f[iOr] : '', cases: iCases != null ? f[iCases] : '' }));
  const table = h('table', { id: 'phewas-table' }, h('thead', {}, h('tr', {}, ['Endpoint', 'Chapter', 'Cases', 'OR', 'P', 'Description'].map(t => h('th', {}, t)))),
    h('tbody', {}, rows.slice().sort((a, b) => a.p - b.p).map(r => h('tr', {}, h('td', {}, r.label), h('td', {}, r.ch >= 0 ? plot.ICD10_CHAPTERS[r.ch][3] : 'other'), h('td', { class: 'num' }, r.cases), h('td', { class: 'num' }, r.or === '' || r.or === 'NA' ? r.or : plot.fmt(+r.or)), h('td', { class: 'num' }, plot.fmtP(r.p)), h('td', {}, r.desc)))));
  const c = h('canvas', { id: 'phewas' });
  show(h('h1', {}, 'PheWAS: ', name), h('div', { class: 'card' }, h('h2', {}, 'By ICD-10 chapter'), c, h('p', { class: 'muted', id: 'phewas-info' }, `${rows.length} endpoints tested; dashed line: Bonferroni 0.05.`)),
    h('div', { class: 'card' }, h('h2', {}, 'Endpoints'), table));
  const items = plot.phewas(c, rows, { width: 980 });
  c.addEventListener('mousemove', e => {
    const r = c.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    const it = items.find(i => (i.px - x) ** 2 + (i.py - y) ** 2 < 36);
    tip(e.clientX, e.clientY, it ? `${it.label}${it.desc ? ' — ' + it.desc : ''}: P = ${it.p.toExponential(2)}` : null);
  });
}

// ---- omics ----

async function pageOmics() {
  const assay = h('input', { type: 'text', id: 'omics-assay', value: sessionStorage.getItem('promise.assay') || 'olink', size: 10 });
  const feat = h('select', { id: 'omics-feature' });
  const cohort = h('input', { type: 'text', id: 'omics-cohort', value: sessionStorage.getItem('promise.omicsCohort') || '', size: 40, placeholder: 'cohort expression (empty: everyone)' });
  const out = h('div', { id: 'omics-out' });
  const hist = h('canvas', { id: 'omics-hist' }), traj = h('canvas', { id: 'omics-traj' });
  async function features() {
    try {
      const r = await api('/api/v1/omics/features?' + qs({ assay: assay.value }));
      feat.replaceChildren(...r.features.map(f => h('option', { value: f.feature_id }, f.name ? `${f.name} (${f.feature_id})` : f.feature_id)));
      run();
    } catch (e) { out.replaceChildren(errorBox(e)); }
  }
  async function run() {
    sessionStorage.setItem('promise.assay', assay.value);
    sessionStorage.setItem('promise.omicsCohort', cohort.value);
    if (!feat.value) return;
    try {
      const r = await api('/api/v1/omics/values?' + qs({ assay: assay.value, feature: feat.value, cohort: cohort.value || null, trajectories: me.allows.trajectories ? 1 : null }));
      const q = r.quantiles;
      out.replaceChildren(h('p', {}, h('b', {}, `${r.name || r.feature}`), ` · ${cellText(r.n)} people (earliest sample each)`,
        q ? ` · median ${q.p50.toFixed(3)}, IQR ${q.p25.toFixed(3)}–${q.p75.toFixed(3)}, 5–95% ${q.p05.toFixed(3)}–${q.p95.toFixed(3)}` : '', r.hidden ? h('span', { class: 'error' }, ' ' + r.hidden) : ''));
      if (r.bins) plot.histogram(hist, r.bins, { width: 520, xlabel: 'value (1st to 99th percentile; the ends hold the rest)' });
      if (r.trajectories) { plot.trajectories(traj, r.trajectories, { width: 520 }); document.getElementById('traj-note').textContent = `${r.trajectories.length} people with two or more samples (numbered, no pseudonyms).`; }
    } catch (e) { out.replaceChildren(errorBox(e)); }
  }
  feat.addEventListener('change', run);
  cohort.addEventListener('keydown', e => { if (e.key === 'Enter') run(); });
  assay.addEventListener('change', features);
  show(h('h1', {}, 'Omics'),
    h('div', { class: 'card' }, 'Assay ', assay, ' Feature ', feat, ' Cohort ', cohort, ' ', h('button', { onclick: run }, 'Show'), out),
    h('div', { class: 'row' }, h('div', { class: 'card' }, h('h2', {}, 'Distribution'), hist),
      h('div', { class: 'card' }, h('h2', {}, 'Trajectories over repeat samples'), me.allows.trajectories ? [traj, h('p', { class: 'muted', id: 'traj-note' })] : h('p', { class: 'muted' }, 'Per-individual trajectories are shown to the project tier and above.'))),
    hiddenNotes());
  if (!me.allows.omics) { out.replaceChildren(h('p', { class: 'error' }, 'Omics distributions need the registered tier.')); return; }
  features();
}

// ---- steward ----

async function pageSteward() {
  if (!me.allows.steward) { show(h('h1', {}, 'Steward'), h('p', { class: 'error' }, `These pages need the steward tier; you are ${me.tier}.`), hiddenNotes()); return; }
  let p, a;
  try { [p, a] = await Promise.all([api('/api/v1/projects'), api('/api/v1/audit?limit=50')]); } catch (e) { show(h('h1', {}, 'Steward'), errorBox(e)); return; }
  const t = (heads, rows) => h('table', {}, h('thead', {}, h('tr', {}, heads.map(x => h('th', {}, x)))), h('tbody', {}, rows.map(r => h('tr', {}, r.map(c => h('td', {}, c))))));
  show(h('h1', {}, 'Steward'),
    h('div', { class: 'card', id: 'audit-status' }, h('h2', {}, 'Audit log'),
      a.verify.ok ? h('p', { class: 'ok' }, `The hash chain verifies: ${a.verify.verified} entries, last id ${a.last_id}.`)
        : h('p', { class: 'error' }, `The chain does NOT verify: first bad entry ${a.verify.bad_id}. ${a.verify.message}`),
      t(['id', 'at', 'who', 'tier', 'kind', 'command', 'query', 'outcome', 'people'], a.log.map(e => [e.id, e.at.replace('T', ' ').replace('Z', ''), e.who, e.tier, e.kind, e.command, (e.query || '').slice(0, 60), e.outcome || '', e.n_individuals ?? '']))),
    h('div', { class: 'card' }, h('h2', {}, 'Projects'), t(['name', 'sources', 'data types', 'purpose', 'expires'], p.projects.map(x => [x.name, x.sources, x.data_types, x.purpose, x.expires]))),
    h('div', { class: 'row' },
      h('div', { class: 'card' }, h('h2', {}, 'Users'), t(['name', 'tier', 'created'], p.users.map(u => [u.name, u.tier, u.created]))),
      h('div', { class: 'card' }, h('h2', {}, 'Grants'), t(['user', 'project', 'since'], p.grants.map(g => [g.user, g.project, g.created])))));
}

// ---- router ----

async function route() {
  tip(0, 0, null);
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const arg = decodeURIComponent(parts.slice(1).join('/'));
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', location.hash.startsWith(a.getAttribute('href'))));
  try {
    if (!me) await loadMe();
    switch (parts[0]) {
      case 'search': return await pageSearch(arg);
      case 'variant': return await pageVariant(arg);
      case 'region': return await pageRegion(arg);
      case 'cohort': return await pageCohort();
      case 'gwas': return await pageGwas(arg);
      case 'phewas': return await pagePhewas(arg);
      case 'omics': return await pageOmics();
      case 'steward': return await pageSteward();
      default: return pageHome();
    }
  } catch (e) { show(errorBox(e)); }
}

window.addEventListener('hashchange', route);
window.promiseUI = { plot, esc };
route();
