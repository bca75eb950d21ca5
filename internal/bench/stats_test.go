//go:build unix

package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSampleQuantiles(t *testing.T) {
	tests := []struct {
		name           string
		s              Sample
		q              float64
		want           float64
		wantMin, wantM float64
	}{
		{"odd", Sample{5, 1, 3}, 0.5, 3, 1, 5},
		{"even takes the lower middle", Sample{4, 1, 3, 2}, 0.5, 2, 1, 4},
		{"p99 of 100", func() Sample {
			var s Sample
			for i := 1; i <= 100; i++ {
				s.add(float64(i))
			}
			return s
		}(), 0.99, 99, 1, 100},
		{"single", Sample{7}, 0.99, 7, 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.s.Quantile(tt.q))
			require.Equal(t, tt.wantMin, tt.s.Min())
			require.Equal(t, tt.wantM, tt.s.Max())
		})
	}
	require.True(t, math.IsNaN(Sample{}.Median()))
}

func TestRatiosArePerRound(t *testing.T) {
	a, base := Sample{2, 9, 4}, Sample{1, 3, 4}
	r := row("a", "m", "u", a).withRatio("base", a, base)
	require.Equal(t, 2.0, r.Ratio) // median of 2, 3, 1
	require.Equal(t, 1.0, r.RatioLow)
	require.Equal(t, 3.0, r.RatioHigh)
	require.True(t, math.IsNaN(ratio(1, 0)))
}

func TestReportWritesTextMarkdownAndJSON(t *testing.T) {
	rep := &Report{Sections: []Section{{ID: "1", Title: "t", Rows: []Row{
		row("a", "m", "us", Sample{1, 2}).withRatio("b", Sample{1, 2}, Sample{1, 0}),
		count("a", "empty", "", math.NaN()),
	}}}, Targets: []Target{{Name: "x", Measured: notMeasured}, {Name: "y", Met: true}}}
	var text, md, js bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.Contains(t, text.String(), "not run")
	require.Contains(t, text.String(), "met")
	rep.WriteMarkdown(&md)
	require.True(t, strings.Contains(md.String(), "| a | m |"), md.String())
	require.NoError(t, rep.WriteJSON(&js), "NaN must not reach JSON")
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, "a", back.Sections[0].Rows[0].Arm)
}
