// uPlot charts with units on the axes and a legend. Every chart is registered in
// window.medtwinCharts[name] (its x/y data) so end-to-end tests can compare what is plotted
// with the API's numbers.
import uPlot from '/static/vendor/uplot.esm.js';

window.medtwinCharts = window.medtwinCharts || {};

// Colour-blind-safe (Okabe–Ito) with enough contrast on white.
export const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000'];

// series: [{label, unit, points: [[x, y], …], dash?, colour?, fillTo? (index of the series a
// shaded band reaches to), markers? (points only, no line: measurements)}]. xKind: 'time' (x in seconds since 1970) or a label such as
// 'hours after the dose'. Horizontal reference lines: lines: [{label, y, colour}].
export function lineChart(container, name, title, { xLabel = 'time', yLabel, time = true, series, lines = [],
  width = 520, height = 240 }) {
  const all = [...series];
  const xs = all.flatMap((s) => s.points.map((p) => p[0]));
  for (const l of lines) {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    all.push({ label: l.label, unit: yLabel, points: [[lo, l.y], [hi, l.y]], dash: [4, 4], colour: l.colour, thin: true });
  }
  const times = [...new Set(all.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const data = [times, ...all.map((s) => {
    const ys = new Array(times.length).fill(null);
    for (const [t, v] of s.points) ys[index.get(t)] = v;
    return ys;
  })];
  const box = document.createElement('figure');
  box.className = 'card chart';
  box.dataset.chart = name;
  box.innerHTML = `<figcaption><strong>${title}</strong></figcaption>`;
  container.appendChild(box);
  const bands = all.flatMap((s, i) => (s.fillTo !== undefined
    ? [{ series: [i + 1, s.fillTo + 1], fill: `${s.colour || COLOURS[i % COLOURS.length]}22` }] : []));
  const plot = new uPlot({
    width: Math.min(width, Math.max(280, container.clientWidth - 40 || width)), height,
    series: [{ label: xLabel }, ...all.map((s, i) => ({
      label: `${s.label}${s.unit ? ` (${s.unit})` : ''}`, stroke: s.colour || COLOURS[i % COLOURS.length],
      width: s.thin ? 1 : 2, dash: s.dash, spanGaps: true,
      points: { show: s.markers || (!s.thin && s.points.length < 80), size: s.markers ? 8 : 4 },
      ...(s.markers ? { paths: () => null } : {}),
    }))],
    bands,
    axes: [{ label: xLabel }, { label: yLabel }],
    scales: { x: { time } },
  }, data, box);
  window.medtwinCharts[name] = { x: data[0], y: data.slice(1, series.length + 1), labels: series.map((s) => s.label) };
  return plot;
}

// A chart over clock time (x in seconds since 1970).
export function timeChart(container, name, title, unit, series, options = {}) {
  return lineChart(container, name, title, { yLabel: unit, series, ...options });
}
