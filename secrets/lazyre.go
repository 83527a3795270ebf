package secrets

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled the first time it is used. Most detectors are
// never run in a short process (their hints keep them off the texts it sees), and compiling all
// of them was a tenth of azvcr's start.
type lazyRegexp struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

func lazyCompile(src string) *lazyRegexp { return &lazyRegexp{src: src} }

func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.src) })
	return l.re
}

func (l *lazyRegexp) SubexpIndex(name string) int { return l.get().SubexpIndex(name) }

func (l *lazyRegexp) FindStringSubmatchIndex(s string) []int {
	return l.get().FindStringSubmatchIndex(s)
}
