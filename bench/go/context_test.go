// The Go side of bench_runtime's WithCancelCancel row. Go's context
// benchmarks build chains and cancel through shared parents, but none
// times the plainest case, one child of Background made and cancelled,
// so it is measured here, the way run_go.sh runs the upstream ones.
package main

import (
	"context"
	"testing"
)

func BenchmarkWithCancelCancel(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, cancel := context.WithCancel(context.Background())
		cancel()
	}
}
