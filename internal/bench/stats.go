//go:build unix

package bench

import (
	"math"
	"slices"
	"time"
)

// A Sample is a set of measurements of one quantity, one per round or per
// operation.
type Sample []float64

// add appends a value.
func (s *Sample) add(v float64) { *s = append(*s, v) }

// addDur appends a duration in microseconds.
func (s *Sample) addDur(d time.Duration) { s.add(float64(d.Nanoseconds()) / 1e3) }

// sorted returns a sorted copy.
func (s Sample) sorted() []float64 {
	c := slices.Clone([]float64(s))
	slices.Sort(c)
	return c
}

// Quantile returns the q-quantile (0 <= q <= 1) by the nearest-rank
// method, or NaN for an empty sample.
func (s Sample) Quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := s.sorted()
	i := int(math.Ceil(q*float64(len(c)))) - 1
	return c[max(0, min(i, len(c)-1))]
}

// Median returns the median (the lower middle for an even count).
func (s Sample) Median() float64 { return s.Quantile(0.5) }

// Min returns the smallest value, or NaN.
func (s Sample) Min() float64 { return s.Quantile(0) }

// Max returns the largest value, or NaN.
func (s Sample) Max() float64 { return s.Quantile(1) }

// Sum returns the sum of the values.
func (s Sample) Sum() float64 {
	var t float64
	for _, v := range s {
		t += v
	}
	return t
}

// ratio returns a/b, or NaN if b is zero.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// ratios returns the per-round ratios a[i]/b[i] of two samples measured in
// alternating rounds, so that a slow period of the machine affects both.
func ratios(a, b Sample) Sample {
	n := min(len(a), len(b))
	out := make(Sample, 0, n)
	for i := range n {
		out = append(out, ratio(a[i], b[i]))
	}
	return out
}
