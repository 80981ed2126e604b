// The Go side of bench_map's anchor rows (shared/reference/anchors.md,
// Map): sync.Map and a builtin map behind sync.RWMutex on the same
// keys and streams as bench/bench_map.c, whose generator (splitmix64
// from the same seed, the same stream ids) this file repeats. Names
// are Map/WORKLOAD/KEYS/THREADS/MAP; 1T rows run a plain loop, 2T rows
// RunParallel at GOMAXPROCS 2 (run_go.sh --map sets -cpu 2).
//
// talk-store and talk-delete give every N operations a map of their
// own, made (and filled) with the timer stopped, as bench_map makes
// them before its clock starts. Go's sync.Map benchmarks with the other
// upstream names are run from Go's own sync tests, not from here.
package main

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	seed    uint64 = 0x676f73796e63
	keyMask uint64 = 1<<62 - 1
)

// Stream ids, as in bench_map.c.
const (
	sKeys uint64 = iota
	sHits
	sMisses
	sTalk
	sMix
)

const (
	opLoad uint64 = iota
	opStore
	opDelete
)

func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func keyOf(r uint64) uint64 {
	if k := r >> 2; k != 0 {
		return k
	}
	return 1
}

func streamSeed(id uint64, n int) uint64 {
	return seed ^ id<<32 ^ uint64(n)
}

type keyset struct {
	n                       int
	keys, perm              []uint64
	mask                    uint64
	hits, misses, talk, mix []uint64
}

func newKeyset(n int) *keyset {
	ks := &keyset{n: n}
	st := streamSeed(sKeys, n)
	ks.keys = make([]uint64, 2*n)
	for i := range ks.keys {
		ks.keys[i] = keyOf(splitmix(&st))
	}
	ks.perm = append([]uint64(nil), ks.keys[:n]...)
	st = streamSeed(7, n)
	for i := n - 1; i > 0; i-- {
		j := splitmix(&st) % uint64(i+1)
		ks.perm[i], ks.perm[j] = ks.perm[j], ks.perm[i]
	}
	l := 1
	for l < 8*n {
		l *= 2
	}
	ks.mask = uint64(l - 1)
	ks.hits = ks.loads(sHits)
	ks.misses = ks.loads(sMisses)
	ks.talk = ks.loads(sTalk)
	ks.mix = ks.mixStream(sMix, 90, 5)
	return ks
}

func (ks *keyset) loads(id uint64) []uint64 {
	s := make([]uint64, ks.mask+1)
	st := streamSeed(id, ks.n)
	n := uint64(ks.n)
	for i := range s {
		r := splitmix(&st)
		j := (r >> 10) % n
		rare := r&1023 == 0
		switch {
		case id == sTalk:
			s[i] = ks.keys[j]
		case id == sHits && rare, id == sMisses && !rare:
			s[i] = ks.keys[n+j]
		default:
			s[i] = ks.keys[j]
		}
	}
	return s
}

func (ks *keyset) mixStream(id, load, store uint64) []uint64 {
	s := make([]uint64, ks.mask+1)
	st := streamSeed(id, ks.n)
	for i := range s {
		r := splitmix(&st)
		p := (r & 0xffff) % 100
		op := opDelete
		if p < load {
			op = opLoad
		} else if p < load+store {
			op = opStore
		}
		s[i] = ks.keys[(r>>16)%uint64(2*ks.n)] | op<<62
	}
	return s
}

type mapI interface {
	Load(k uint64) bool
	Store(k uint64, v int)
	Delete(k uint64)
}

// rwMap is what a Go programmer writes without sync.Map.
type rwMap struct {
	mu sync.RWMutex
	m  map[uint64]int
}

func (m *rwMap) Load(k uint64) bool {
	m.mu.RLock()
	_, ok := m.m[k]
	m.mu.RUnlock()
	return ok
}

func (m *rwMap) Store(k uint64, v int) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

func (m *rwMap) Delete(k uint64) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

type syncMap struct{ m sync.Map }

func (m *syncMap) Load(k uint64) bool {
	_, ok := m.m.Load(k)
	return ok
}

func (m *syncMap) Store(k uint64, v int) { m.m.Store(k, v) }
func (m *syncMap) Delete(k uint64)       { m.m.Delete(k) }

var makers = []struct {
	name string
	make func() mapI
}{
	{"RWMutexMap", func() mapI { return &rwMap{m: map[uint64]int{}} }},
	{"sync.Map", func() mapI { return &syncMap{} }},
}

var sink bool

// full returns a map holding keys[0, n), primed as Go's own map
// benchmarks prime theirs: every key loaded twice, so that sync.Map
// has promoted its dirty map before the timer starts.
func full(ks *keyset, newMap func() mapI) mapI {
	m := newMap()
	for i := 0; i < ks.n; i++ {
		m.Store(ks.keys[i], i+1)
	}
	for i := 0; i < 2*ks.n; i++ {
		m.Load(ks.keys[i%ks.n])
	}
	return m
}

// walk runs f over the stream s, in one goroutine or RunParallel.
func walk(b *testing.B, ks *keyset, threads int, s []uint64,
	f func(e uint64, k int)) {
	if threads == 1 {
		for k := 0; k < b.N; k++ {
			f(s[uint64(k)&ks.mask], k)
		}
		return
	}
	var id int64
	b.RunParallel(func(pb *testing.PB) {
		pos := uint64(atomic.AddInt64(&id, 1)-1) * ((ks.mask + 1) / 2)
		for k := 0; pb.Next(); k++ {
			f(s[pos&ks.mask], k)
			pos++
		}
	})
}

func loads(b *testing.B, ks *keyset, threads int, s []uint64,
	newMap func() mapI) {
	m := full(ks, newMap)
	b.ResetTimer()
	walk(b, ks, threads, s, func(e uint64, _ int) {
		if m.Load(e) {
			sink = true
		}
	})
}

func mix(b *testing.B, ks *keyset, threads int, newMap func() mapI) {
	m := full(ks, newMap)
	b.ResetTimer()
	walk(b, ks, threads, ks.mix, func(e uint64, k int) {
		switch key := e & keyMask; e >> 62 {
		case opLoad:
			if m.Load(key) {
				sink = true
			}
		case opStore:
			m.Store(key, k+1)
		default:
			m.Delete(key)
		}
	})
}

func talk(b *testing.B, ks *keyset, store bool, newMap func() mapI) {
	for done := 0; done < b.N; done += ks.n {
		b.StopTimer()
		var m mapI
		if store {
			m = newMap()
		} else {
			m = full(ks, newMap)
		}
		b.StartTimer()
		for i := 0; i < ks.n && done+i < b.N; i++ {
			if store {
				m.Store(ks.keys[i], i+1)
			} else {
				m.Delete(ks.perm[i])
			}
		}
	}
}

func BenchmarkMap(b *testing.B) {
	rows := []struct {
		name    string
		threads []int
		run     func(b *testing.B, ks *keyset, t int, nm func() mapI)
	}{
		{"load-hits", []int{1, 2}, func(b *testing.B, ks *keyset, t int,
			nm func() mapI) {
			loads(b, ks, t, ks.hits, nm)
		}},
		{"load-misses", []int{1, 2}, func(b *testing.B, ks *keyset,
			t int, nm func() mapI) {
			loads(b, ks, t, ks.misses, nm)
		}},
		{"talk-load", []int{1}, func(b *testing.B, ks *keyset, t int,
			nm func() mapI) {
			loads(b, ks, t, ks.talk, nm)
		}},
		{"talk-store", []int{1}, func(b *testing.B, ks *keyset, _ int,
			nm func() mapI) {
			talk(b, ks, true, nm)
		}},
		{"talk-delete", []int{1}, func(b *testing.B, ks *keyset, _ int,
			nm func() mapI) {
			talk(b, ks, false, nm)
		}},
		{"mix-90-5-5", []int{1, 2}, mix},
	}
	// One flat name per leaf: testing keeps the slashes as levels.
	for _, n := range []int{1000, 100000} {
		ks := newKeyset(n)
		for _, r := range rows {
			for _, t := range r.threads {
				for _, mk := range makers {
					r, t, mk := r, t, mk
					name := r.name + "/" + strconv.Itoa(n) + "/" +
						strconv.Itoa(t) + "T/" + mk.name
					b.Run(name, func(b *testing.B) {
						r.run(b, ks, t, mk.make)
					})
				}
			}
		}
	}
}
