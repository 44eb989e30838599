// Small DOM helpers and the usage chart: no framework, no innerHTML (text is always text).

const SVG = "http://www.w3.org/2000/svg";

/** An element with attributes (`on*` are listeners; `true` sets, `false`/null omits) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === "") continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "disabled" || k === "checked" || k === "selected" || k === "hidden") node[k] = Boolean(v);
    else if (k === "value") node.value = v;
    else if (v === true) node.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v);
  }
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/**
 * A table with its caption and column headers (a header given as `[text, "num"]` is right-aligned
 * like its numbers); `body` is a `tbody` or its rows, `foot` an optional `tfoot`.
 */
export function dataTable(caption, headers, body, foot) {
  const th = (h) => (Array.isArray(h) ? el("th", { scope: "col", class: h[1] }, h[0]) : el("th", { scope: "col" }, h));
  return el("table", {},
    caption ? el("caption", {}, caption) : "",
    el("thead", {}, el("tr", {}, headers.map(th))),
    body instanceof Node ? body : el("tbody", {}, body),
    foot || "");
}

/** A control with its visible label (the input needs an id). */
export function field(label, control) {
  return el("label", { for: control.id }, el("span", {}, label), control);
}

/** A timestamp in the person's own locale and time zone. */
export function fmtTime(iso) {
  if (!iso) return "—";
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function fmtNumber(n, digits) {
  return Number(n).toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// Distinguishable on white, and at least 3:1 against it (WCAG's non-text contrast).
const COLORS = ["#0b5cad", "#b3261e", "#1f7a3a", "#8a4baf", "#a15c00", "#00707a", "#5b6770"];

/**
 * Credits per day, stacked per cluster, as an SVG bar chart with a legend, and a table of the
 * same numbers for screen readers and copying.
 */
export function usageChart(daily, names) {
  if (!daily.length) return el("p", {}, "No cluster ran in this window.");
  const days = [...new Set(daily.map((d) => d.day))].sort();
  const clusters = [...new Set(daily.map((d) => d.cluster_id))];
  const color = (id) => COLORS[clusters.indexOf(id) % COLORS.length];
  const totals = days.map((day) => daily.filter((d) => d.day === day).reduce((s, d) => s + d.credits, 0));
  const max = Math.max(...totals, 0.001);
  const [width, height, pad, bottom] = [640, 200, 40, 30];
  const step = (width - pad) / days.length;
  const bar = Math.max(4, Math.min(40, step * 0.7));
  const scale = (v) => (v / max) * (height - bottom - 10);
  const shapes = [];
  days.forEach((day, i) => {
    let y = height - bottom;
    for (const d of daily.filter((x) => x.day === day)) {
      const h = scale(d.credits);
      y -= h;
      shapes.push(svg("rect", { x: pad + i * step + (step - bar) / 2, y, width: bar, height: Math.max(h, 0.5), fill: color(d.cluster_id) },
        svg("title", {}, `${day}, ${names.get(d.cluster_id) || d.cluster_id}: ${d.credits} credits, ${d.hours} h`)));
    }
    if (days.length <= 14 || i % Math.ceil(days.length / 14) === 0) {
      shapes.push(svg("text", { x: pad + i * step + step / 2, y: height - 10, "text-anchor": "middle", "font-size": 11 }, day.slice(5)));
    }
  });
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "usage-chart-title", class: "chart" },
    svg("title", { id: "usage-chart-title" }, `Credits per day and cluster, ${days[0]} to ${days[days.length - 1]}; the table below has the numbers.`),
    svg("line", { x1: pad, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#57606a" }),
    svg("text", { x: 0, y: 14, "font-size": 11 }, fmtNumber(max, 1)),
    svg("text", { x: 0, y: height - bottom, "font-size": 11 }, "0"),
    shapes);
  const legend = el("ul", { class: "legend" }, clusters.map((id) =>
    el("li", {}, el("span", { class: "swatch", style: `background:${color(id)}`, "aria-hidden": "true" }), names.get(id) || id)));
  const numbers = el("details", {}, el("summary", {}, "Credits per day as a table"),
    dataTable(null, ["Day", "Cluster", ["Hours", "num"], ["Credits", "num"]],
      daily.map((d) => el("tr", {}, el("td", {}, d.day), el("td", {}, names.get(d.cluster_id) || d.cluster_id),
        el("td", { class: "num" }, fmtNumber(d.hours, 1)), el("td", { class: "num" }, fmtNumber(d.credits, 2))))));
  return el("figure", {}, chart, legend, numbers);
}
