//go:build !race

package testproxyjson_test

// raceDetector: the race detector is on, and timings mean little.
const raceDetector = false
