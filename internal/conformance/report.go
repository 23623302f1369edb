package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Print writes one line per result, with the mismatches of a failing case
// under it as a table of what was expected beside what came back, and the
// server log of a failing case when there is one.
func Print(w io.Writer, results []*Result) {
	for _, r := range results {
		status := "PASS"
		if !r.Passed() {
			status = "FAIL"
		}
		line := fmt.Sprintf("%s %s: %s (%s)", status, r.File, r.Case.Name, r.Duration.Round(10*time.Microsecond))
		if len(r.Skipped) > 0 {
			line += "; not checked: " + strings.Join(r.Skipped, ", ")
		}
		fmt.Fprintln(w, line)
		if r.Err != nil {
			fmt.Fprintf(w, "    error: %v\n", r.Err)
		}
		if len(r.Mismatches) > 0 {
			tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "    \tEXPECTED\tACTUAL")
			for _, m := range r.Mismatches {
				fmt.Fprintf(tw, "    %s\t%s\t%s\n", m.What, oneLine(m.Want), oneLine(m.Got))
			}
			tw.Flush()
			for _, m := range r.Mismatches {
				if m.Diff != "" {
					fmt.Fprintf(w, "    %s, expected (-) and actual (+):\n", m.What)
					for _, l := range strings.Split(strings.TrimSuffix(m.Diff, "\n"), "\n") {
						fmt.Fprintln(w, "      "+l)
					}
				}
			}
		}
		if !r.Passed() && strings.TrimSpace(r.Log) != "" {
			fmt.Fprintln(w, "    server log:")
			for _, l := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
				fmt.Fprintln(w, "      "+l)
			}
		}
	}
}

// oneLine keeps a table cell on one line (tabs and newlines of quoted
// values are escaped already; a raw one would break the columns).
func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
}

// Summary is the closing line: "N passed, N failed".
func Summary(results []*Result) string {
	passed, failed := Count(results)
	return fmt.Sprintf("%d passed, %d failed", passed, failed)
}

// Count returns how many results passed and failed.
func Count(results []*Result) (passed, failed int) {
	for _, r := range results {
		if r.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// JUnit XML, as CI systems (GitHub Actions reporters, GitLab, Jenkins) read
// it: one testsuite per case file.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes results as JUnit XML; name names the whole run (the
// module or URL tested).
func WriteJUnit(w io.Writer, name string, results []*Result) error {
	top := junitSuites{Name: name}
	var total time.Duration
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.File]
		if !ok {
			i = len(top.Suites)
			index[r.File] = i
			top.Suites = append(top.Suites, junitSuite{Name: r.File})
		}
		s := &top.Suites[i]
		jc := junitCase{Name: r.Case.Name, Classname: r.File, Time: seconds(r.Duration), SystemOut: r.Log}
		if !r.Passed() {
			var b strings.Builder
			msg := ""
			if r.Err != nil {
				msg = r.Err.Error()
				fmt.Fprintf(&b, "error: %v\n", r.Err)
			}
			for _, m := range r.Mismatches {
				if msg == "" {
					msg = m.What + ": expected " + m.Want + ", got " + m.Got
				}
				fmt.Fprintf(&b, "%s\n  expected: %s\n  actual:   %s\n", m.What, m.Want, m.Got)
				if m.Diff != "" {
					b.WriteString(m.Diff)
				}
			}
			jc.Failure = &junitFailure{Message: msg, Type: "mismatch", Text: b.String()}
			s.Failures++
			top.Failures++
		}
		s.Tests++
		top.Tests++
		total += r.Duration
		st, _ := time.ParseDuration(s.Time + "s")
		s.Time = seconds(st + r.Duration)
		s.Cases = append(s.Cases, jc)
	}
	top.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }
