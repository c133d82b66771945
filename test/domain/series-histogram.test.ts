import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSeriesHistogram } from '../../src/domain/series-histogram.ts';

describe('series histogram', () => {
  it('counts each observation into the first bucket that holds it, cumulatively, with sum and count', () => {
    const h = createSeriesHistogram([0.1, 1]);
    const s = h.series({ route: '/a', status_code: 200 });
    for (const v of [0.05, 0.1, 0.5, 3]) s.observe(v);
    assert.equal(
      h.render('d', 'Durations'),
      [
        '# HELP d Durations',
        '# TYPE d histogram',
        'd_bucket{route="/a",status_code="200",le="0.1"} 2',
        'd_bucket{route="/a",status_code="200",le="1"} 3',
        'd_bucket{route="/a",status_code="200",le="+Inf"} 4',
        'd_sum{route="/a",status_code="200"} 3.65',
        'd_count{route="/a",status_code="200"} 4',
        '',
      ].join('\n'),
    );
  });

  it('keeps series apart and lists each, empty ones included', () => {
    const h = createSeriesHistogram([1]);
    h.series({ status: 200 }).observe(0.5);
    h.series({ status: 404 });
    const counts = h.render('d', 'x').split('\n').filter((l) => l.startsWith('d_count'));
    assert.deepEqual(counts, ['d_count{status="200"} 1', 'd_count{status="404"} 0']);
  });

  it('escapes label values', () => {
    const h = createSeriesHistogram([1]);
    h.series({ route: 'a"b\\c\nd' });
    assert.match(h.render('d', 'x'), /d_count\{route="a\\"b\\\\c\\nd"\} 0/);
  });

  it('has only its header before the first series', () => {
    assert.equal(createSeriesHistogram([1]).render('d', 'x'), '# HELP d x\n# TYPE d histogram\n');
  });
});
