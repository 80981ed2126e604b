// The Go side of bench_xsync's singleflight rows. x/sync has no
// singleflight benchmark upstream, so these two are ours, written the
// way bench_xsync runs them in C. They import Debian's x/sync, so
// run_go.sh builds this directory in GOPATH mode, as it builds x/sync's
// own tests; the module in the directory above never sees it.
package xsync_test

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/sync/singleflight"
)

// callers is how many goroutines call Do on one key together.
const callers = 8

// value is what every flight returns: a package variable, so that the
// function allocates nothing and the loop times Do alone.
var value interface{} = &struct{ n int }{1}

func flight() (interface{}, error) {
	return value, nil
}

func BenchmarkDo(b *testing.B) {
	// One caller, a new key each call: every Do starts and ends its
	// own flight. The key is the counter's eight bytes, as in C.
	b.Run("distinct-keys", func(b *testing.B) {
		var g singleflight.Group
		var buf [8]byte

		for i := 0; i < b.N; i++ {
			binary.LittleEndian.PutUint64(buf[:], uint64(i))
			v, err, _ := g.Do(string(buf[:]), flight)
			if v != value || err != nil {
				b.Fatalf("Do = %v, %v; want %v, nil", v, err,
					value)
			}
		}
	})
	// Eight goroutines whatever GOMAXPROCS (2 under run_go.sh), one
	// key; ns/op is per Do call, RunParallel's rule.
	b.Run("one-key-8g", func(b *testing.B) {
		var g singleflight.Group
		p := callers / runtime.GOMAXPROCS(0)

		if p < 1 {
			p = 1
		}
		b.SetParallelism(p)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v, err, _ := g.Do("k", flight)
				if v != value || err != nil {
					b.Errorf("Do = %v, %v; want %v, nil",
						v, err, value)
					return
				}
			}
		})
	})
}
