// Duration over time per job, failures marked, drawn by uPlot (served from
// the project's own node_modules as /admin/assets/uplot.js).

const PALETTE = ['#1f5fa8', '#2e7d32', '#8e44ad', '#b26a00', '#00838f', '#5d4037', '#c2185b', '#455a64'];
const FAILED = new Set(['failed', 'timed_out']);

/**
 * uPlot's aligned data for `runs` (any order): x is the start time in
 * seconds; one series of durations per job (null where another job's run
 * sits, gaps spanned); a last series holds the failed runs' durations only.
 */
export function chartData(runs) {
  const sorted = runs.filter((run) => run.started_at && run.duration_ms !== null && run.duration_ms !== undefined)
    .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  const jobs = [...new Set(sorted.map((run) => run.job))].sort();
  const xs = sorted.map((run) => Date.parse(run.started_at) / 1000);
  const perJob = jobs.map((job) => sorted.map((run) => (run.job === job ? run.duration_ms : null)));
  const failures = sorted.map((run) => (FAILED.has(run.status) ? run.duration_ms : null));
  return { jobs, data: [xs, ...perJob, failures], points: sorted.length, failed: failures.filter((v) => v !== null).length };
}

/** Draws (or redraws) the chart into `container`; returns the uPlot instance or null when there is nothing to draw. */
export function drawChart(container, runs, previous) {
  previous?.destroy();
  const { jobs, data, points, failed } = chartData(runs);
  container.dataset.series = String(jobs.length);
  container.dataset.points = String(points);
  container.dataset.failures = String(failed);
  container.replaceChildren();
  if (points === 0 || typeof window.uPlot !== 'function') return null;
  const width = Math.max(280, container.clientWidth || 600);
  const options = {
    width,
    height: 260,
    scales: { x: { time: true } },
    axes: [{}, { label: 'ms', size: 60 }],
    series: [
      { label: 'time' },
      ...jobs.map((job, index) => ({
        label: job,
        stroke: PALETTE[index % PALETTE.length],
        width: 2,
        spanGaps: true,
        points: { show: true, size: 5 },
      })),
      {
        label: 'failed',
        stroke: '#c62828',
        fill: '#c62828',
        paths: () => null,
        points: { show: true, size: 10, stroke: '#c62828', fill: '#c62828' },
      },
    ],
  };
  const plot = new window.uPlot(options, data, container);
  const onResize = () => plot.setSize({ width: Math.max(280, container.clientWidth || width), height: 260 });
  window.addEventListener('resize', onResize);
  const destroy = plot.destroy.bind(plot);
  plot.destroy = () => {
    window.removeEventListener('resize', onResize);
    destroy();
  };
  return plot;
}
