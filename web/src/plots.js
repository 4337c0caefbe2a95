// plots.js - canvas plots for the promise UI: bar charts, histograms, the
// Manhattan plot (a million points drawn as pixels into one ImageData),
// the QQ plot with genomic-control lambda, PheWAS and trajectories.
// No dependencies; every function draws into a <canvas> it is given.

const DPR = () => (typeof window !== 'undefined' && window.devicePixelRatio) || 1;

// Sizes a canvas for its CSS box and returns a 2D context in CSS pixels.
export function setup(canvas, w, h) {
  const r = DPR();
  canvas.style.width = w + 'px';
  canvas.style.height = h + 'px';
  canvas.width = Math.round(w * r);
  canvas.height = Math.round(h * r);
  const g = canvas.getContext('2d');
  g.setTransform(r, 0, 0, r, 0, 0);
  g.font = '12px system-ui, sans-serif';
  return g;
}

// A cell the server released: a number, "<k" (small) or null (hidden).
export function cellValue(c) {
  if (typeof c === 'number') return c;
  return null;
}

// Horizontal bar chart of [{label, value, note}] (value null = hidden;
// note is shown instead, e.g. "<5").
export function barChart(canvas, rows, opts = {}) {
  const w = opts.width || 360, rowH = 20, left = opts.left || 90, right = 70;
  const h = Math.max(rowH * rows.length + 10, 30);
  const g = setup(canvas, w, h);
  g.clearRect(0, 0, w, h);
  const max = Math.max(opts.max || 0, ...rows.map(r => (typeof r.value === 'number' ? r.value : 0)), 1e-12);
  rows.forEach((r, i) => {
    const y = 5 + i * rowH;
    g.fillStyle = '#333';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    g.fillText(String(r.label).slice(0, 14), left - 6, y + rowH / 2);
    const bw = typeof r.value === 'number' ? ((w - left - right) * r.value) / max : 0;
    if (typeof r.value === 'number') {
      g.fillStyle = opts.color || '#3b6ea5';
      g.fillRect(left, y + 3, Math.max(bw, r.value > 0 ? 1 : 0), rowH - 6);
    } else {
      g.fillStyle = '#ddd';
      g.fillRect(left, y + 3, 14, rowH - 6);
    }
    g.fillStyle = '#333';
    g.textAlign = 'left';
    g.fillText(r.text != null ? r.text : (typeof r.value === 'number' ? fmt(r.value) : r.note || 'hidden'), left + bw + 6, y + rowH / 2);
  });
}

export function fmtP(p) {
  return p >= 1e-3 ? p.toPrecision(3) : p.toExponential(2);
}

export function fmt(v) {
  if (v == null) return 'hidden';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}

// Histogram of [{lo, hi, count}] (count a number or "<k").
export function histogram(canvas, bins, opts = {}) {
  const w = opts.width || 520, h = opts.height || 220, L = 44, B = 30, T = 10, R = 24;
  const g = setup(canvas, w, h);
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...bins.map(b => (typeof b.count === 'number' ? b.count : 0)));
  const bw = (w - L - R) / bins.length;
  axes(g, L, T, w - R, h - B);
  bins.forEach((b, i) => {
    const x = L + i * bw;
    if (typeof b.count === 'number') {
      const bh = ((h - B - T) * b.count) / max;
      g.fillStyle = '#3b6ea5';
      g.fillRect(x + 1, h - B - bh, bw - 2, bh);
    } else {
      g.fillStyle = '#ccc';
      g.fillRect(x + 1, h - B - 6, bw - 2, 6);
    }
  });
  g.fillStyle = '#333';
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (let i = 0; i <= bins.length; i += Math.ceil(bins.length / 6)) {
    const v = i < bins.length ? bins[i].lo : bins[bins.length - 1].hi;
    g.fillText(v.toFixed(2), L + i * bw, h - B + 4);
  }
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  g.fillText(String(max), L - 4, T + 4);
  g.fillText('0', L - 4, h - B);
  if (opts.xlabel) {
    g.textAlign = 'center';
    g.fillText(opts.xlabel, (L + w) / 2, h - 6);
  }
}

function axes(g, x0, y0, x1, y1) {
  g.strokeStyle = '#888';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(x0 + 0.5, y0);
  g.lineTo(x0 + 0.5, y1 + 0.5);
  g.lineTo(x1, y1 + 0.5);
  g.stroke();
}

// ---- GWAS results ----

// Chromosome sort key: 1..22, X, Y, MT, then the rest by name.
export function chromKey(c) {
  const s = String(c).replace(/^chr/i, '');
  if (/^\d+$/.test(s)) return +s;
  return { X: 23, Y: 24, XY: 25, M: 26, MT: 26 }[s.toUpperCase()] || 100;
}

// Parses a `promise gwas` TSV (#CHROM POS ID REF ALT A1 TEST OBS_CT BETA SE
// T_OR_Z P) into columnar typed arrays sorted by genome position. Rows
// without a P value are skipped.
export function parseGwas(text) {
  const lines = text.split('\n');
  const head = lines[0].replace(/^#/, '').split('\t');
  const ci = n => head.indexOf(n);
  const iC = ci('CHROM'), iP = ci('POS'), iId = ci('ID'), iR = ci('REF'), iA = ci('ALT'), iPv = ci('P'), iB = ci('BETA');
  const rows = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (!l) continue;
    const f = l.split('\t');
    const p = parseFloat(f[iPv]);
    if (!(p >= 0 && p <= 1)) continue;
    rows.push([f[iC], +f[iP], f[iId], f[iR], f[iA], p, iB >= 0 ? parseFloat(f[iB]) : NaN]);
  }
  rows.sort((a, b) => chromKey(a[0]) - chromKey(b[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) || a[1] - b[1]);
  return fromRows(rows);
}

// Columnar data: chrom index per row, chromosome names and extents, cumulative x.
export function fromRows(rows) {
  const n = rows.length;
  const d = {
    n, chroms: [], chromStart: [], chromEnd: [], chromIdx: new Uint16Array(n), pos: new Float64Array(n),
    x: new Float64Array(n), mlp: new Float32Array(n), p: new Float64Array(n), ids: new Array(n), beta: new Float32Array(n),
  };
  // Each chromosome spans its first to last variant, with a small gap after.
  let offset = 0, cur = null, curMin = 0, curMax = 0, ci = -1;
  const gap = () => Math.max(1, (curMax - curMin) * 0.02);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r[0] !== cur) {
      if (ci >= 0) { d.chromEnd[ci] = offset + (curMax - curMin); offset += curMax - curMin + gap(); }
      cur = r[0]; ci = d.chroms.length; d.chroms.push(cur); d.chromStart.push(offset); curMin = curMax = r[1];
    }
    d.chromIdx[i] = ci;
    d.pos[i] = r[1];
    d.x[i] = offset + (r[1] - curMin);
    if (r[1] > curMax) curMax = r[1];
    d.p[i] = r[5];
    d.mlp[i] = r[5] > 0 ? -Math.log10(r[5]) : 320;
    d.ids[i] = r[2] && r[2] !== '.' ? r[2] : `${r[0]}-${r[1]}-${r[3]}-${r[4]}`;
    d.beta[i] = r[6];
    d.variant = d.variant || [];
    d.variant[i] = `${r[0]}-${r[1]}-${r[3]}-${r[4]}`;
  }
  if (ci >= 0) d.chromEnd[ci] = offset + (curMax - curMin);
  return d;
}

// Synthetic columnar data of n variants on 22 chromosomes (for the
// rendering benchmark): uniform P with a few peaks.
export function synthetic(n, seed = 1) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const d = { n, chroms: [], chromStart: [], chromEnd: [], chromIdx: new Uint16Array(n), pos: new Float64Array(n), x: new Float64Array(n), mlp: new Float32Array(n), p: new Float64Array(n) };
  const per = Math.ceil(n / 22), len = 100e6;
  for (let c = 0; c < 22; c++) { d.chroms.push(String(c + 1)); d.chromStart.push(c * len); d.chromEnd.push((c + 1) * len); }
  for (let i = 0; i < n; i++) {
    const c = Math.min(21, Math.floor(i / per));
    const pos = ((i % per) / per) * len + 1;
    let p = rnd() + 1e-12;
    if ((i % 50000) < 40) p = p * 1e-9;
    d.chromIdx[i] = c; d.pos[i] = pos; d.x[i] = c * len + pos; d.p[i] = p; d.mlp[i] = -Math.log10(p);
  }
  return d;
}

function lowerBound(a, v) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < v) lo = m + 1; else hi = m; }
  return lo;
}

// The Manhattan plot. view = {x0, x1} in cumulative coordinates (null = all).
// Points are written straight into an ImageData (one 2x2 pixel block each),
// so a million variants cost one pass. Returns the layout for hit testing.
export function manhattan(canvas, d, opts = {}) {
  const w = opts.width || 960, h = opts.height || 320, L = 46, R = 10, T = 12, B = 34;
  const g = setup(canvas, w, h);
  const r = DPR();
  g.clearRect(0, 0, w, h);
  const x0 = opts.view ? opts.view.x0 : 0, x1 = opts.view ? opts.view.x1 : (d.chromEnd[d.chromEnd.length - 1] || 1);
  let ymax = opts.ymax || 0;
  const i0 = lowerBound(d.x, x0), i1 = lowerBound(d.x, x1 + 1e-9);
  if (!ymax) { for (let i = i0; i < i1; i++) if (d.mlp[i] > ymax) ymax = d.mlp[i]; ymax = Math.max(8, Math.ceil(ymax + 0.5)); }
  const pw = Math.round((w - L - R) * r), ph = Math.round((h - T - B) * r);
  const img = g.createImageData(pw, ph);
  const buf = new Uint32Array(img.data.buffer);
  const colA = 0xffa56e3b, colB = 0xff6b6b6b, colHit = 0xff2b2bd0; // ABGR (little-endian)
  const sx = pw / (x1 - x0 || 1), sy = ph / ymax;
  const gw = -Math.log10(5e-8);
  for (let i = i0; i < i1; i++) {
    const px = ((d.x[i] - x0) * sx) | 0;
    let py = ph - 1 - ((d.mlp[i] * sy) | 0);
    if (py < 0) py = 0;
    const col = d.mlp[i] >= gw ? colHit : (d.chromIdx[i] & 1 ? colB : colA);
    const o = py * pw + px;
    buf[o] = col;
    if (px + 1 < pw) buf[o + 1] = col;
    if (py + 1 < ph) { buf[o + pw] = col; if (px + 1 < pw) buf[o + pw + 1] = col; }
  }
  g.putImageData(img, Math.round(L * r), Math.round(T * r));
  // axes, chromosome labels, genome-wide line
  axes(g, L, T, w - R, h - B);
  g.fillStyle = '#333';
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const xs = v => L + ((v - x0) / (x1 - x0 || 1)) * (w - L - R);
  for (let c = 0; c < d.chroms.length; c++) {
    const a = Math.max(d.chromStart[c], x0), b = Math.min(d.chromEnd[c], x1);
    if (b <= a) continue;
    if (xs(b) - xs(a) > 10) g.fillText(d.chroms[c], (xs(a) + xs(b)) / 2, h - B + 4);
  }
  if (opts.view && i1 > i0) {
    g.textAlign = 'left';
    g.fillText(`${d.chroms[d.chromIdx[i0]]}:${Math.round(d.pos[i0])} – ${d.chroms[d.chromIdx[i1 - 1]]}:${Math.round(d.pos[i1 - 1])}`, L + 4, h - 14);
  }
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let y = 0; y <= ymax; y += Math.max(1, Math.round(ymax / 6))) g.fillText(String(y), L - 4, T + (h - T - B) * (1 - y / ymax));
  g.save();
  g.translate(12, (T + h - B) / 2);
  g.rotate(-Math.PI / 2);
  g.textAlign = 'center';
  g.fillText('−log10 P', 0, 0);
  g.restore();
  if (gw < ymax) {
    const y = T + (h - T - B) * (1 - gw / ymax);
    g.strokeStyle = '#d02b2b';
    g.setLineDash([4, 4]);
    g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke();
    g.setLineDash([]);
  }
  return { L, R, T, B, w, h, x0, x1, ymax, i0, i1 };
}

// The variant nearest to (mx, my) in CSS pixels, within 6 px; -1 if none.
export function manhattanHit(d, lay, mx, my) {
  const { L, R, T, B, w, h, x0, x1, ymax } = lay;
  const gx = x0 + ((mx - L) / (w - L - R)) * (x1 - x0);
  const tol = (6 / (w - L - R)) * (x1 - x0);
  let a = lowerBound(d.x, gx - tol), b = lowerBound(d.x, gx + tol);
  let best = -1, bd = 36;
  for (let i = a; i < b; i++) {
    const px = L + ((d.x[i] - x0) / (x1 - x0)) * (w - L - R);
    const py = T + (h - T - B) * (1 - d.mlp[i] / ymax);
    const dd = (px - mx) ** 2 + (py - my) ** 2;
    if (dd < bd) { bd = dd; best = i; }
  }
  return best;
}

// Inverse of the standard normal CDF (Acklam's rational approximation).
export function qnorm(p) {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const e = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const pl = 0.02425;
  if (p < pl) { const q = Math.sqrt(-2 * Math.log(p)); return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1); }
  if (p > 1 - pl) { const q = Math.sqrt(-2 * Math.log(1 - p)); return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1); }
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// Genomic-control lambda: median chi-square(1) of the P values / 0.4549364.
export function lambdaGC(p) {
  const chi = Float64Array.from(p, v => { const z = qnorm(v / 2); return z * z; }).sort();
  if (!chi.length) return NaN;
  const m = chi.length >> 1;
  const med = chi.length & 1 ? chi[m] : (chi[m - 1] + chi[m]) / 2;
  return med / 0.4549364231195724;
}

// QQ plot of the P values with the diagonal; returns lambda.
export function qq(canvas, p, opts = {}) {
  const w = opts.width || 320, h = opts.height || 320, L = 40, B = 34, T = 10, R = 10;
  const g = setup(canvas, w, h);
  g.clearRect(0, 0, w, h);
  const n = p.length;
  const sorted = Float64Array.from(p).sort();
  const emax = -Math.log10(0.5 / n), omax = Math.max(emax, sorted.length ? -Math.log10(Math.max(sorted[0], 1e-320)) : 1);
  const m = Math.ceil(Math.max(emax, omax));
  const sx = (w - L - R) / m, sy = (h - T - B) / m;
  axes(g, L, T, w - R, h - B);
  g.strokeStyle = '#d02b2b';
  g.beginPath(); g.moveTo(L, h - B); g.lineTo(L + emax * sx, h - B - emax * sy); g.stroke();
  g.fillStyle = '#3b6ea5';
  let lastx = -1, lasty = -1;
  for (let i = 0; i < n; i++) {
    const ex = -Math.log10((i + 0.5) / n), ob = -Math.log10(Math.max(sorted[i], 1e-320));
    const px = Math.round(L + ex * sx), py = Math.round(h - B - ob * sy);
    if (px === lastx && py === lasty) continue;
    lastx = px; lasty = py;
    g.fillRect(px - 1, py - 1, 2, 2);
  }
  const lam = opts.lambda != null ? opts.lambda : lambdaGC(p);
  g.fillStyle = '#333';
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(`λ = ${isFinite(lam) ? lam.toFixed(3) : 'NA'}`, L + 8, T + 4);
  g.textAlign = 'center';
  g.fillText('expected −log10 P', (L + w) / 2, h - 14);
  return lam;
}

// ICD-10 chapters by the first letter (and digits where a letter is split).
export const ICD10_CHAPTERS = [
  ['I', 'A00', 'B99', 'Infectious'], ['II', 'C00', 'D48', 'Neoplasms'], ['III', 'D50', 'D89', 'Blood'],
  ['IV', 'E00', 'E90', 'Endocrine'], ['V', 'F00', 'F99', 'Mental'], ['VI', 'G00', 'G99', 'Nervous'],
  ['VII', 'H00', 'H59', 'Eye'], ['VIII', 'H60', 'H95', 'Ear'], ['IX', 'I00', 'I99', 'Circulatory'],
  ['X', 'J00', 'J99', 'Respiratory'], ['XI', 'K00', 'K93', 'Digestive'], ['XII', 'L00', 'L99', 'Skin'],
  ['XIII', 'M00', 'M99', 'Musculoskeletal'], ['XIV', 'N00', 'N99', 'Genitourinary'], ['XV', 'O00', 'O99', 'Pregnancy'],
  ['XVI', 'P00', 'P96', 'Perinatal'], ['XVII', 'Q00', 'Q99', 'Congenital'], ['XVIII', 'R00', 'R99', 'Symptoms'],
  ['XIX', 'S00', 'T98', 'Injury'], ['XX', 'V01', 'Y98', 'External'], ['XXI', 'Z00', 'Z99', 'Contact'], ['XXII', 'U00', 'U99', 'Special'],
];

export function icdChapter(code) {
  const c = String(code || '').toUpperCase().replace(/^ICD10:/, '').slice(0, 3);
  for (let i = 0; i < ICD10_CHAPTERS.length; i++) if (c >= ICD10_CHAPTERS[i][1] && c <= ICD10_CHAPTERS[i][2] + '~') return i;
  return -1;
}

// PheWAS: [{code, label, p}] drawn by ICD-10 chapter; returns hit-test data.
export function phewas(canvas, rows, opts = {}) {
  const w = opts.width || 960, h = opts.height || 300, L = 46, R = 10, T = 10, B = 60;
  const g = setup(canvas, w, h);
  g.clearRect(0, 0, w, h);
  const items = rows.map(r => ({ ...r, ch: r.ch != null ? r.ch : icdChapter(r.code), mlp: -Math.log10(Math.max(r.p, 1e-320)) }))
    .sort((a, b) => a.ch - b.ch || (a.code < b.code ? -1 : 1));
  const ymax = Math.max(4, ...items.map(i => i.mlp)) * 1.1;
  axes(g, L, T, w - R, h - B);
  const n = items.length || 1;
  const palette = ['#3b6ea5', '#a56e3b', '#3ba56e', '#a53b6e', '#6e3ba5', '#6ea53b'];
  items.forEach((it, i) => {
    it.px = L + ((i + 0.5) / n) * (w - L - R);
    it.py = T + (h - T - B) * (1 - it.mlp / ymax);
    g.fillStyle = palette[(it.ch + 6) % 6];
    g.beginPath(); g.arc(it.px, it.py, 3.5, 0, 7); g.fill();
  });
  g.fillStyle = '#333';
  g.save();
  let i = 0;
  while (i < items.length) {
    let j = i;
    while (j < items.length && items[j].ch === items[i].ch) j++;
    const cx = L + (((i + j) / 2) / n) * (w - L - R);
    g.save(); g.translate(cx, h - B + 6); g.rotate(Math.PI / 4); g.textAlign = 'left'; g.textBaseline = 'middle';
    g.fillText(items[i].ch >= 0 ? ICD10_CHAPTERS[items[i].ch][3] : 'other', 0, 0); g.restore();
    i = j;
  }
  g.restore();
  g.fillStyle = '#333';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let y = 0; y <= ymax; y += Math.max(1, Math.round(ymax / 5))) g.fillText(String(y), L - 4, T + (h - T - B) * (1 - y / ymax));
  g.save(); g.translate(12, (T + h - B) / 2); g.rotate(-Math.PI / 2); g.textAlign = 'center'; g.fillText('−log10 P', 0, 0); g.restore();
  const bonf = -Math.log10(0.05 / n);
  if (bonf < ymax) {
    const y = T + (h - T - B) * (1 - bonf / ymax);
    g.strokeStyle = '#d02b2b'; g.setLineDash([4, 4]); g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke(); g.setLineDash([]);
  }
  return items;
}

// Trajectories: [[{date, value}...]...] as lines over calendar time.
export function trajectories(canvas, series, opts = {}) {
  const w = opts.width || 520, h = opts.height || 240, L = 44, R = 10, T = 10, B = 30;
  const g = setup(canvas, w, h);
  g.clearRect(0, 0, w, h);
  const pts = series.flat();
  if (!pts.length) return;
  const t = s => Date.parse(s);
  const tmin = Math.min(...pts.map(p => t(p.date))), tmax = Math.max(...pts.map(p => t(p.date))) || tmin + 1;
  const vmin = Math.min(...pts.map(p => p.value)), vmax = Math.max(...pts.map(p => p.value));
  const X = v => L + ((v - tmin) / (tmax - tmin || 1)) * (w - L - R), Y = v => T + (h - T - B) * (1 - (v - vmin) / (vmax - vmin || 1));
  axes(g, L, T, w - R, h - B);
  g.globalAlpha = 0.5;
  series.forEach((s, i) => {
    g.strokeStyle = `hsl(${(i * 47) % 360},55%,45%)`;
    g.beginPath();
    s.forEach((p, j) => (j ? g.lineTo(X(t(p.date)), Y(p.value)) : g.moveTo(X(t(p.date)), Y(p.value))));
    g.stroke();
  });
  g.globalAlpha = 1;
  g.fillStyle = '#333';
  g.textAlign = 'right';
  g.fillText(vmax.toFixed(2), L - 4, T + 6);
  g.fillText(vmin.toFixed(2), L - 4, h - B);
  g.textAlign = 'center';
  g.fillText(new Date(tmin).getUTCFullYear() + ' – ' + new Date(tmax).getUTCFullYear(), (L + w) / 2, h - 12);
}
