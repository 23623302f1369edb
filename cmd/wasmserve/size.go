package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSize reads a byte count such as "128MiB", "10MB", "64k" or "4096".
// Binary (KiB, MiB, GiB) and decimal (KB, MB, GB) units are both accepted;
// a bare K, M or G is binary.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: want a number with an optional unit (B, KiB, MiB, GiB, KB, MB, GB)", s)
	}
	mult := map[string]uint64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1000,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1000 * 1000,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1000 * 1000 * 1000,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q: use B, KiB, MiB, GiB, KB, MB or GB", s, unit)
	}
	if n > (1<<64-1)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
