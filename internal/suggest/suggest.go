// Package suggest finds the name that was meant when a user mistyped one:
// a flag, a command, a field of a case file.
package suggest

import "strings"

// Nearest returns the name of names closest to s by edit distance (case
// aside), if it is close enough to be a typo (at most a third of its
// length, and 2), or one that s is a prefix of; else "".
func Nearest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if len(n) < 2 {
			continue
		}
		d := EditDistance(strings.ToLower(s), n)
		if strings.HasPrefix(n, s) && len(s) >= 3 {
			d = min(d, 1)
		}
		if d < bestD && d <= max(len(s)/3, 1) {
			best, bestD = n, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance between a and b, in bytes.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
