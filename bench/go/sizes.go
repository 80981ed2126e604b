// Command sizes prints the size in bytes of each sync type that gosync
// ports, one "sync.Type bytes" line each, for bench/run.sh to set beside
// the C sizes that bench_sync prints.
package main

import (
	"fmt"
	"sync"
	"unsafe"
)

func main() {
	var (
		mu   sync.Mutex
		rw   sync.RWMutex
		cond sync.Cond
		once sync.Once
		wg   sync.WaitGroup
	)
	fmt.Println("sync.Mutex", unsafe.Sizeof(mu))
	fmt.Println("sync.RWMutex", unsafe.Sizeof(rw))
	fmt.Println("sync.Cond", unsafe.Sizeof(cond))
	fmt.Println("sync.Once", unsafe.Sizeof(once))
	fmt.Println("sync.WaitGroup", unsafe.Sizeof(wg))
}
