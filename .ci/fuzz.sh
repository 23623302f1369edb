#!/usr/bin/env bash
# make fuzz: run every Fuzz target of the module for FUZZTIME each (default
# 30s), one worker each, and say what each found. A failing input is saved by
# `go test` under the package's testdata/fuzz/<Target>/: commit it, it is a
# regression seed that `make test` runs from then on. Not part of make test.
set -u
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
cd "$(dirname "$0")/.."
failed=()
summary=()
while IFS= read -r file; do
	dir=$(dirname "$file")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "== $target ($dir, $FUZZTIME)"
		start=$(date +%s)
		out=$($GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s -parallel 1 "$dir" 2>&1)
		rc=$?
		secs=$(( $(date +%s) - start ))
		last=$(printf '%s\n' "$out" | grep '^fuzz: elapsed' | tail -1)
		if [ $rc -eq 0 ]; then
			summary+=("ok     $target ($dir) ${secs}s: ${last#fuzz: }")
		else
			printf '%s\n' "$out" | tail -40
			saved=$(printf '%s\n' "$out" | sed -n 's/.*Failing input written to \(.*\)/\1/p')
			summary+=("FAILED $target ($dir) ${secs}s: ${saved:-see the output above}")
			failed+=("$target")
		fi
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
echo
echo "== make fuzz: what each target found"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "crashers were written under testdata/fuzz/: fix the bug, then commit them as regression seeds"
	exit 1
fi
