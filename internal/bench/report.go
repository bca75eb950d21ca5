//go:build unix

package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// A Report is the outcome of a run: the machine, one section per
// measurement and the status of each performance target.
type Report struct {
	Date      string    `json:"date"`
	GoVersion string    `json:"go_version"`
	OS        string    `json:"os"`
	CPUs      int       `json:"cpus"`
	Short     bool      `json:"short"`
	Rounds    int       `json:"rounds"`
	Sections  []Section `json:"sections"`
	Targets   []Target  `json:"targets"`
}

// A Section is one measurement: rows of arms measured in the same run.
type Section struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Rows  []Row    `json:"rows"`
	Notes []string `json:"notes,omitempty"`
}

// A Row is one quantity of one arm: its median over rounds (or over
// operations), its range, and, if it has a baseline, the median and range
// of its per-round ratios to the baseline measured in the same rounds.
type Row struct {
	Arm    string  `json:"arm"`
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	N      int     `json:"n"`
	// RatioTo names the baseline arm; empty if the row has no ratio.
	RatioTo   string  `json:"ratio_to,omitempty"`
	Ratio     float64 `json:"ratio,omitempty"`
	RatioLow  float64 `json:"ratio_low,omitempty"`
	RatioHigh float64 `json:"ratio_high,omitempty"`
}

// A Target is one performance target and whether this run met it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	// Note says what it would take to meet it, or what holds it.
	Note string `json:"note,omitempty"`
}

// row makes a row from a sample.
func row(arm, metric, unit string, s Sample) Row {
	return Row{Arm: arm, Metric: metric, Unit: unit, Median: s.Median(), Low: s.Min(), High: s.Max(), N: len(s)}
}

// withRatio adds the per-round ratios of s to base.
func (r Row) withRatio(to string, s, base Sample) Row {
	rs := ratios(s, base)
	r.RatioTo, r.Ratio, r.RatioLow, r.RatioHigh = to, rs.Median(), rs.Min(), rs.Max()
	return r
}

// count makes a row from a single value.
func count(arm, metric, unit string, v float64) Row {
	return Row{Arm: arm, Metric: metric, Unit: unit, Median: v, Low: v, High: v, N: 1}
}

// WriteText prints the report as aligned tables.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "date %s  go %s  %s  cpus %d  rounds %d  short %v\n", r.Date, r.GoVersion, r.OS, r.CPUs, r.Rounds, r.Short)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, s := range r.Sections {
		fmt.Fprintf(tw, "\n%s. %s\n", s.ID, s.Title)
		fmt.Fprintln(tw, "  arm\tmetric\tmedian\trange\tn\tratio (range)")
		for _, x := range s.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%s\t%d\t%s\n", x.Arm, x.Metric, num(x.Median), x.Unit, span(x.Low, x.High), x.N, x.ratioText())
		}
		for _, n := range s.Notes {
			fmt.Fprintf(tw, "  note: %s\n", n)
		}
	}
	fmt.Fprintln(tw, "\ntargets")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.status(), t.Name, t.Goal, t.Measured)
		if t.Note != "" {
			fmt.Fprintf(tw, "  \t\t%s\n", t.Note)
		}
	}
	return tw.Flush()
}

// WriteMarkdown prints the report as Markdown tables, for BENCHMARKS.md.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Run of %s, %s, %s, %d CPUs, %d rounds (short: %v).\n", r.Date, r.GoVersion, r.OS, r.CPUs, r.Rounds, r.Short)
	for _, s := range r.Sections {
		fmt.Fprintf(w, "\n### %s. %s\n\n| arm | metric | median | range | n | ratio (range) |\n|---|---|---:|---:|---:|---|\n", s.ID, s.Title)
		for _, x := range s.Rows {
			fmt.Fprintf(w, "| %s | %s | %s %s | %s | %d | %s |\n", x.Arm, x.Metric, num(x.Median), x.Unit, span(x.Low, x.High), x.N, x.ratioText())
		}
		for _, n := range s.Notes {
			fmt.Fprintf(w, "\n%s\n", n)
		}
	}
	fmt.Fprintf(w, "\n### Targets\n\n| status | target | goal | measured | note |\n|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.status(), t.Name, t.Goal, t.Measured, t.Note)
	}
}

// WriteJSON prints the report as indented JSON. NaN values become null.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r.clean(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// clean returns a copy without NaN or infinite values, which JSON cannot
// hold (they become zero; N tells an empty row).
func (r *Report) clean() *Report {
	c := *r
	c.Sections = make([]Section, len(r.Sections))
	for i, s := range r.Sections {
		s.Rows = append([]Row(nil), s.Rows...)
		for j := range s.Rows {
			x := &s.Rows[j]
			for _, f := range []*float64{&x.Median, &x.Low, &x.High, &x.Ratio, &x.RatioLow, &x.RatioHigh} {
				if math.IsNaN(*f) || math.IsInf(*f, 0) {
					*f = 0
				}
			}
		}
		c.Sections[i] = s
	}
	return &c
}

func (x Row) ratioText() string {
	if x.RatioTo == "" {
		return ""
	}
	return fmt.Sprintf("%s x %s (%s)", num(x.Ratio), x.RatioTo, span(x.RatioLow, x.RatioHigh))
}

// num formats a value with three significant digits.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v == math.Trunc(v) && math.Abs(v) < 1e7:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return strings.TrimRight(fmt.Sprintf("%.3g", v), ".")
}

func span(lo, hi float64) string {
	if lo == hi || math.IsNaN(lo) {
		return num(lo)
	}
	return num(lo) + "-" + num(hi)
}

// status is "met", "MISSED", or "not run" when the run did not measure it.
func (t Target) status() string {
	switch {
	case t.Met:
		return "met"
	case t.Measured == notMeasured:
		return "not run"
	}
	return "MISSED"
}
