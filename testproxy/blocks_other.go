//go:build !unix

package testproxy

// allocBlock allocates n bytes on the heap, where the system offers no anonymous maps.
func allocBlock(n int) []byte { return make([]byte, n) }

func freeBlock([]byte) {}
