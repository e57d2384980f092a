// The report's price chart, drawn as SVG from the page's own data (no library, no network):
// last, mark and index price above, liquidations below (shorts up, longs down), watch levels
// dashed. Hover shows the values at a time; drag across to zoom into a stretch; double-click
// zooms out again. Colours as in price.png.
(function () {
  "use strict";
  var holder = document.getElementById("price-chart");
  var source = document.getElementById("price-data");
  if (!holder || !source) return;
  var d = JSON.parse(source.textContent);
  var n = d.minutes.length;
  if (n === 0) return;
  var NS = "http://www.w3.org/2000/svg";
  var W = 1000, H = 470, L = 84, R = 36, T = 30, P = 310, G = 26, B = 402;  // price T..P, bars P+G..B
  var COL = { last: "#111", mark: "#1e5ae6", index: "rgba(255,150,0,.55)", up: "#2e9e4f", down: "#d03030" };
  var full = [Math.min(0, d.minutes[0]), d.minutes[n - 1]];
  var view = full.slice();

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function clock(m) {
    var s = Math.round(m * 60), h = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60, ss = s % 60;
    return [h, mm, ss].map(function (x) { return (x < 10 ? "0" : "") + x; }).join(":");
  }
  function price(v) {
    return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }
  function usd(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return "$" + (a / 1e9).toFixed(2) + "B";
    if (a >= 1e6) return "$" + (a / 1e6).toFixed(1) + "M";
    return "$" + Math.round(a).toLocaleString("en-US");
  }
  // Round steps for axis labels: at most `most` of them over `span`.
  function step(span, most, steps) {
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= most) return steps[i];
    return steps[steps.length - 1] * Math.ceil(span / most / steps[steps.length - 1]);
  }
  function niceSteps(span) {
    var e = Math.pow(10, Math.floor(Math.log10(span / 5 || 1)));
    return [e, 2 * e, 2.5 * e, 5 * e, 10 * e];
  }
  var MINUTE_STEPS = [1 / 60, 2 / 60, 5 / 60, 10 / 60, 15 / 60, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
  // The first index at or after minute m.
  function from(m) {
    var lo = 0, hi = n;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (d.minutes[mid] < m) lo = mid + 1; else hi = mid; }
    return lo;
  }

  var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "price path" }, holder);
  var tip = document.createElement("div");
  tip.className = "tip";
  holder.appendChild(tip);
  var x, yp, yb, i0, i1;

  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    i0 = Math.max(0, from(view[0]) - 1);
    i1 = Math.min(n - 1, from(view[1]));
    var lo = Infinity, hi = -Infinity, most = 0;
    for (var i = i0; i <= i1; i++) {
      lo = Math.min(lo, d.last[i], d.mark[i], d.index[i]);
      hi = Math.max(hi, d.last[i], d.mark[i], d.index[i]);
      most = Math.max(most, d.long[i], d.short[i]);
    }
    var pad = Math.max((hi - lo) * 0.06, hi * 1e-4);
    lo -= pad; hi += pad;
    var span = Math.max(view[1] - view[0], 1e-9);
    x = function (m) { return L + (m - view[0]) / span * (W - L - R); };
    yp = function (v) { return T + (hi - v) / (hi - lo) * (P - T); };
    var mid = (P + G + B) / 2;  // the bars' zero line
    yb = function (v) { return mid - v / (most || 1) * ((B - (P + G)) / 2); };
    el("rect", { x: L, y: T, width: W - L - R, height: B - T, fill: "#fff" }, svg);
    var axis = el("g", { "font-size": 12, fill: "#44505c" }, svg);
    var ps = step(hi - lo, 6, niceSteps(hi - lo));
    for (var v = Math.ceil(lo / ps) * ps; v <= hi; v += ps) {
      var y = yp(v);
      el("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#e8ecf0" }, svg);
      el("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, axis).textContent =
        "$" + v.toLocaleString("en-US", { maximumFractionDigits: ps < 1 ? 2 : 0 });
    }
    var ms = step(span, 7, MINUTE_STEPS);
    for (var m = Math.ceil(view[0] / ms - 1e-9) * ms; m <= view[1] + 1e-9; m += ms) {
      var xx = x(m);
      el("line", { x1: xx, x2: xx, y1: T, y2: B, stroke: "#f0f2f5" }, svg);
      el("text", { x: xx, y: H - 40, "text-anchor": "middle" }, axis).textContent = clock(m);
    }
    el("text", { x: (L + W - R) / 2, y: H - 22, "text-anchor": "middle" }, axis).textContent =
      "time from the start (HH:MM:SS)";
    d.levels.forEach(function (lv) {
      if (lv < lo || lv > hi) return;
      el("line", { x1: L, x2: W - R, y1: yp(lv), y2: yp(lv), stroke: "#8a5a00", "stroke-dasharray": "5 4" }, svg);
      el("text", { x: W - R - 4, y: yp(lv) - 3, "text-anchor": "end", "font-size": 11, fill: "#8a5a00" }, svg)
        .textContent = "watch $" + lv.toLocaleString("en-US", { maximumFractionDigits: 1 });
    });
    // Lines and bars stay inside the plot when zoomed (their end points lie just beyond it).
    var clip = el("clipPath", { id: "price-plot" }, el("defs", {}, svg));
    el("rect", { x: L, y: 0, width: W - L - R, height: H }, clip);
    var plot = el("g", { "clip-path": "url(#price-plot)" }, svg);
    [["index", 6], ["mark", 2], ["last", 1]].forEach(function (s) {
      var pts = [];
      for (var i = i0; i <= i1; i++) pts.push(x(d.minutes[i]).toFixed(1) + "," + yp(d[s[0]][i]).toFixed(1));
      el("polyline", { points: pts.join(" "), fill: "none", stroke: COL[s[0]], "stroke-width": s[1],
        "stroke-linejoin": "round" }, plot);
    });
    var bw = Math.max((W - L - R) / Math.max(i1 - i0 + 1, 1) * 0.9, 0.6);
    for (i = i0; i <= i1; i++) {
      var bx = x(d.minutes[i]) - bw;
      if (d.short[i] > 0) el("rect", { x: bx, y: yb(d.short[i]), width: bw, height: mid - yb(d.short[i]), fill: COL.up }, plot);
      if (d.long[i] > 0) el("rect", { x: bx, y: mid, width: bw, height: yb(-d.long[i]) - mid, fill: COL.down }, plot);
    }
    el("line", { x1: L, x2: W - R, y1: mid, y2: mid, stroke: "#c4ccd4" }, svg);
    el("text", { x: L - 6, y: P + G + 10, "text-anchor": "end", "font-size": 11, fill: COL.up }, svg).textContent =
      usd(most);
    el("text", { x: L - 6, y: B, "text-anchor": "end", "font-size": 11, fill: COL.down }, svg).textContent =
      usd(most);
    var legend = el("g", { "font-size": 12 }, svg), lx = L + 8;
    [["last", "traded (each stretch's lowest and highest)"], ["mark", "mark"], ["index", "index"], ["up", "shorts liquidated"], ["down", "longs liquidated"]]
      .forEach(function (s) {
        el("rect", { x: lx, y: 10, width: 14, height: 4, fill: COL[s[0]] }, legend);
        el("text", { x: lx + 18, y: 16 }, legend).textContent = s[1];
        lx += 28 + s[1].length * 6.5;
      });
    el("text", { x: W - R, y: P + G - 4, "text-anchor": "end", "font-size": 12, fill: "#44505c" }, svg)
      .textContent = "liquidated notional per " + d.step_secs + " s: shorts up, longs down";
    svg.appendChild(cursor);
    svg.appendChild(band);
  }

  var cursor = el("line", { y1: T, y2: B, stroke: "#777", "stroke-dasharray": "3 3", visibility: "hidden" });
  var band = el("rect", { y: T, height: B - T, fill: "rgba(42,93,176,.15)", visibility: "hidden" });
  function minuteAt(ev) {
    var r = svg.getBoundingClientRect(), px = (ev.clientX - r.left) / r.width * W;
    return view[0] + (Math.min(Math.max(px, L), W - R) - L) / (W - L - R) * (view[1] - view[0]);
  }
  var dragFrom = null;
  svg.addEventListener("mousemove", function (ev) {
    var m = minuteAt(ev), i = Math.min(Math.max(from(m), i0), i1);
    if (i > i0 && m - d.minutes[i - 1] < d.minutes[i] - m) i -= 1;
    var cx = x(d.minutes[i]);
    cursor.setAttribute("x1", cx); cursor.setAttribute("x2", cx); cursor.setAttribute("visibility", "visible");
    tip.textContent = "";
    [clock(d.minutes[i]), "traded " + price(d.last[i]), "mark " + price(d.mark[i]), "index " + price(d.index[i]),
      "shorts liquidated " + usd(d.short[i]), "longs liquidated " + usd(d.long[i])].forEach(function (t, k) {
      if (k) tip.appendChild(document.createElement("br"));
      tip.appendChild(document.createTextNode(t));
    });
    var r = svg.getBoundingClientRect(), left = cx / W * r.width;
    tip.style.display = "block";
    tip.style.left = (left > r.width / 2 ? left - tip.offsetWidth - 12 : left + 12) + "px";
    tip.style.top = "20px";
    if (dragFrom !== null) {
      var a = x(Math.min(dragFrom, m)), b = x(Math.max(dragFrom, m));
      band.setAttribute("x", a); band.setAttribute("width", b - a); band.setAttribute("visibility", "visible");
    }
  });
  svg.addEventListener("mouseleave", function () {
    cursor.setAttribute("visibility", "hidden");
    tip.style.display = "none";
  });
  svg.addEventListener("mousedown", function (ev) { dragFrom = minuteAt(ev); ev.preventDefault(); });
  window.addEventListener("mouseup", function (ev) {
    if (dragFrom === null) return;
    var a = Math.min(dragFrom, minuteAt(ev)), b = Math.max(dragFrom, minuteAt(ev));
    dragFrom = null;
    band.setAttribute("visibility", "hidden");
    // A click, or a stretch too short to hold two points, is no zoom.
    if (from(b) - from(a) >= 2) { view = [a, b]; draw(); }
  });
  svg.addEventListener("dblclick", function () { view = full.slice(); draw(); });
  draw();
})();
