//go:build unix

package testproxy

import "syscall"

// allocBlock maps n bytes of anonymous memory, outside the Go heap; a failed map falls back to
// the heap.
func allocBlock(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// freeBlock unmaps a block allocBlock mapped (a heap block is left to the collector).
func freeBlock(b []byte) {
	syscall.Munmap(b) // fails harmlessly for a heap block
}
