package conformance

import (
	"fmt"
	"strings"
)

// diffContext is how many equal lines a hunk of unifiedDiff shows around
// each change.
const diffContext = 3

// maxDiffLines bounds the lines unifiedDiff compares: its table is the
// product of both counts. Beyond it the bodies are cut, and the diff says so.
const maxDiffLines = 2000

// longBody reports whether a body mismatch reads better as a diff than in
// the one-line table: one side holds several lines or is wider than a
// terminal's column can show.
func longBody(want, got string) bool {
	multi := func(s string) bool { return strings.Count(strings.TrimSuffix(s, "\n"), "\n") > 0 }
	return multi(want) || multi(got) || len(want) > 60 || len(got) > 60
}

// unifiedDiff returns the lines of want and got as a unified diff ("---
// expected", "+++ actual", hunks with diffContext lines around each
// change), a line without its final newline marked as such.
func unifiedDiff(want, got string) string {
	a, b := diffLines(want), diffLines(got)
	var cut string
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		cut = fmt.Sprintf("(only the first %d lines are compared)\n", maxDiffLines)
		a, b = a[:min(len(a), maxDiffLines)], b[:min(len(b), maxDiffLines)]
	}
	ops := diffOps(a, b)
	var out strings.Builder
	out.WriteString("--- expected\n+++ actual\n" + cut)
	// Group the operations into hunks: changes closer than twice the
	// context share one.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = run
		}
		writeHunk(&out, ops[start:end])
		i = end
	}
	return out.String()
}

// diffOp is one line of a diff: kind ' ' (in both), '-' (expected only) or
// '+' (actual only), and its line numbers from 1 (0 where it has none).
type diffOp struct {
	kind       byte
	text       string
	aLine, bLn int
}

// diffOps returns the lines of a and b as the operations of a longest
// common subsequence.
func diffOps(a, b []string) []diffOp {
	// lcs[i][j] is the length of the longest common subsequence of
	// a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i + 1, j + 1})
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i + 1, 0})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], 0, j + 1})
			j++
		}
	}
	return ops
}

// writeHunk writes ops as one hunk with its @@ header.
func writeHunk(out *strings.Builder, ops []diffOp) {
	aStart, bStart, aN, bN := 0, 0, 0, 0
	for _, op := range ops {
		if op.kind != '+' {
			if aStart == 0 {
				aStart = op.aLine
			}
			aN++
		}
		if op.kind != '-' {
			if bStart == 0 {
				bStart = op.bLn
			}
			bN++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aN), hunkRange(bStart, bN))
	for _, op := range ops {
		out.WriteByte(op.kind)
		out.WriteString(op.text)
		out.WriteByte('\n')
	}
}

// hunkRange writes a hunk's start and length as diff does ("3,4", "3" for
// one line, "0,0" for none).
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return "0,0"
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// diffLines splits s into lines, a last one without its newline marked
// so that a missing final newline shows as a change.
func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimSuffix(l, "\n")
		} else {
			lines[i] = l + `\ (no newline at the end)`
		}
	}
	return lines
}
