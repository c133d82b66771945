// A Prometheus histogram kept as separate series, one per label set. Callers hold on to each series
// and observe into it directly, so an observation is a bucket search and three additions — no
// label validation or hashing, which is most of what prom-client's Histogram.observe costs.

export type Labels = Record<string, string | number>;

export interface HistogramSeries {
  observe(value: number): void;
}

export interface SeriesHistogram {
  /** A new series for `labels`; callers create one per label set and keep it. */
  series(labels: Labels): HistogramSeries;
  /** Prometheus text format: HELP, TYPE, then per series its cumulative buckets, sum and count. */
  render(name: string, help: string): string;
}

const escapeLabel = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');

export function createSeriesHistogram(upperBounds: readonly number[]): SeriesHistogram {
  const all: { labels: Labels; counts: number[]; sum: number; count: number }[] = [];
  return {
    series(labels) {
      const s = { labels, counts: upperBounds.map(() => 0), sum: 0, count: 0 };
      all.push(s);
      return {
        observe(value) {
          let i = 0;
          while (i < upperBounds.length && value > upperBounds[i]!) i++;
          if (i < upperBounds.length) s.counts[i]!++;
          s.sum += value;
          s.count++;
        },
      };
    },
    render(name, help) {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
      for (const s of all) {
        const labels = labelText(s.labels);
        let cumulative = 0;
        upperBounds.forEach((le, i) => {
          cumulative += s.counts[i]!;
          lines.push(`${name}_bucket{${labels},le="${le}"} ${cumulative}`);
        });
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${s.count}`, `${name}_sum{${labels}} ${s.sum}`, `${name}_count{${labels}} ${s.count}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}
