package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/engine"
)

// checkBounds are the upper bounds of gatehouse_check_duration_seconds'
// buckets, in nanoseconds: 1µs × 4ⁱ up to 262ms. Checks take microseconds;
// Prometheus's default buckets start at 5ms.
var checkBounds = func() (b [10]int64) {
	b[0] = 1000
	for i := 1; i < len(b); i++ {
		b[i] = b[i-1] * 4
	}
	return b
}()

// checkCounts is a tally of checks: by kind and outcome, and by duration
// bucket (the last one above every bound), with their total time.
type checkCounts struct {
	outcomes [len(checkKinds)][2]uint64
	buckets  [len(checkBounds) + 1]uint64
	nanos    uint64
}

func (c *checkCounts) add(kind engine.ResourceKind, allowed bool, d time.Duration) {
	k, a, b := countedAt(kind, allowed, d)
	c.outcomes[k][a]++
	c.buckets[b]++
	c.nanos += uint64(max(d, 0))
}

// countedAt is where a check is counted: its kind's row and its
// outcome's column of the outcomes, and its duration's bucket.
func countedAt(kind engine.ResourceKind, allowed bool, d time.Duration) (k, a, b int) {
	if allowed {
		a = 1
	}
	return kindIndex(kind), a, bucketOf(d)
}

// checkStats holds the check counters and histogram as plain atomics,
// exposed by Collect as gatehouse_checks_total and
// gatehouse_check_duration_seconds. A batch tallies its checks on its own
// and adds them here once (CheckBatch): a Prometheus counter and
// histogram updated per item put every check of two cores' batches on the
// same few cache lines (a tenth of the binary's batch throughput, issue 18).
type checkStats struct {
	outcomes [len(checkKinds)][2]atomic.Uint64
	buckets  [len(checkBounds) + 1]atomic.Uint64
	nanos    atomic.Uint64

	countDesc, durDesc *prometheus.Desc
}

func newCheckStats() *checkStats {
	return &checkStats{
		countDesc: prometheus.NewDesc("gatehouse_checks_total",
			"Permission checks answered (single and batch items), by resource kind and outcome.", []string{"kind", "allowed"}, nil),
		durDesc: prometheus.NewDesc("gatehouse_check_duration_seconds",
			"Time the engine took to answer one check (HTTP handling excluded).", nil, nil),
	}
}

func (s *checkStats) observe(kind engine.ResourceKind, allowed bool, d time.Duration) {
	k, a, b := countedAt(kind, allowed, d)
	s.outcomes[k][a].Add(1)
	s.buckets[b].Add(1)
	s.nanos.Add(uint64(max(d, 0)))
}

// merge adds a batch's tally, touching only what it counted.
func (s *checkStats) merge(c *checkCounts) {
	for k := range c.outcomes {
		for a, n := range c.outcomes[k] {
			if n != 0 {
				s.outcomes[k][a].Add(n)
			}
		}
	}
	for i, n := range c.buckets {
		if n != 0 {
			s.buckets[i].Add(n)
		}
	}
	s.nanos.Add(c.nanos)
}

// Describe implements prometheus.Collector.
func (s *checkStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.countDesc
	ch <- s.durDesc
}

// Collect implements prometheus.Collector. A scrape while batches merge
// may see a batch's counts and not yet its buckets; the next one sees
// both, as with any counters read one by one.
func (s *checkStats) Collect(ch chan<- prometheus.Metric) {
	for k, kind := range checkKinds {
		for a, allowed := range [2]string{"false", "true"} {
			ch <- prometheus.MustNewConstMetric(s.countDesc, prometheus.CounterValue, float64(s.outcomes[k][a].Load()), string(kind), allowed)
		}
	}
	cumulative := make(map[float64]uint64, len(checkBounds))
	var count uint64
	for i, bound := range checkBounds {
		count += s.buckets[i].Load()
		cumulative[float64(bound)/1e9] = count
	}
	count += s.buckets[len(checkBounds)].Load()
	ch <- prometheus.MustNewConstHistogram(s.durDesc, count, float64(s.nanos.Load())/1e9, cumulative)
}

func kindIndex(kind engine.ResourceKind) int {
	switch kind {
	case engine.KindSystem:
		return 0
	case engine.KindProject:
		return 1
	case engine.KindDomain:
		return 2
	case engine.KindFolder:
		return 3
	}
	return len(checkKinds) - 1
}

// bucketOf is the index of the first bucket whose bound d does not
// exceed (Prometheus's buckets are "less than or equal").
func bucketOf(d time.Duration) int {
	n := int64(d)
	for i, b := range checkBounds {
		if n <= b {
			return i
		}
	}
	return len(checkBounds)
}

// checkBatch tallies the checks of one batch request; done adds them to
// the metrics at once.
type checkBatch struct {
	s *checkStats
	c checkCounts
}

var batchPool = sync.Pool{New: func() any { return new(checkBatch) }}

// ObserveBatch returns observe, which counts one check of a batch
// request, and done, which adds the batch's checks to the metrics at
// once. They are for one goroutine, and neither is to be called after
// done.
func (m *Metrics) ObserveBatch() (observe func(kind engine.ResourceKind, allowed bool, d time.Duration), done func()) {
	b := batchPool.Get().(*checkBatch)
	b.s = m.checks
	return b.c.add, b.done
}

func (b *checkBatch) done() {
	b.s.merge(&b.c)
	*b = checkBatch{}
	batchPool.Put(b)
}
