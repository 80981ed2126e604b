// The Go side of bench_pool's rows. Go's own BenchmarkPool puts and
// gets a small int; this one times the bench_pool workload instead:
// take a buffer of 64 B or 4 KiB from a sync.Pool whose New makes
// one, write its first byte, put it back. Serial names run one
// goroutine; Parallel ones run GOMAXPROCS under RunParallel.
package main

import (
	"sync"
	"testing"
)

func newPool(size int) *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}}
}

func getPut(p *sync.Pool) {
	b := p.Get().(*[]byte)
	(*b)[0] = 0
	p.Put(b)
}

func benchSerial(b *testing.B, size int) {
	p := newPool(size)
	for i := 0; i < b.N; i++ {
		getPut(p)
	}
}

func benchParallel(b *testing.B, size int) {
	p := newPool(size)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			getPut(p)
		}
	})
}

func BenchmarkPoolGetPut64Serial(b *testing.B)     { benchSerial(b, 64) }
func BenchmarkPoolGetPut4096Serial(b *testing.B)   { benchSerial(b, 4096) }
func BenchmarkPoolGetPut64Parallel(b *testing.B)   { benchParallel(b, 64) }
func BenchmarkPoolGetPut4096Parallel(b *testing.B) { benchParallel(b, 4096) }
