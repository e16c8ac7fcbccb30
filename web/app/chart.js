// uPlot charts with units on the axes and a legend. Every chart is registered in
// window.medtwinCharts[name] (its x/y data) so end-to-end tests can compare what is plotted
// with the API's numbers.
import uPlot from '/static/vendor/uplot.esm.js';

window.medtwinCharts = window.medtwinCharts || {};

const COLOURS = ['#0b5cad', '#c2410c', '#15803d', '#7e22ce', '#0f766e'];

// series: [{label, unit, points: [[t_seconds, value], …], dash?, colour?}]
export function timeChart(container, name, title, unit, series, { width = 520, height = 220 } = {}) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const data = [times, ...series.map((s) => {
    const ys = new Array(times.length).fill(null);
    for (const [t, v] of s.points) ys[index.get(t)] = v;
    return ys;
  })];
  const box = document.createElement('figure');
  box.className = 'card';
  box.dataset.chart = name;
  box.innerHTML = `<figcaption><strong>${title}</strong></figcaption>`;
  container.appendChild(box);
  const plot = new uPlot({
    width, height,
    series: [{ label: 'time' }, ...series.map((s, i) => ({
      label: `${s.label} (${s.unit})`, stroke: s.colour || COLOURS[i % COLOURS.length], width: 2,
      dash: s.dash, spanGaps: true, points: { show: true, size: 4 },
    }))],
    axes: [{ label: 'time' }, { label: unit }],
    scales: { x: { time: true } },
  }, data, box);
  window.medtwinCharts[name] = { x: data[0], y: data.slice(1), labels: series.map((s) => s.label) };
  return plot;
}
