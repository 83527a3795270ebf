package engine

import (
	"fmt"

	"github.com/azvcr/azvcr/matcher"
)

// Summary counts what a session did.
type Summary struct {
	Mode      Mode
	Replayed  int // recorded interactions answered
	Unused    int // recorded interactions never asked for
	Misses    int // requests with no recording (replay) — recorded instead in auto mode
	Repeated  int // answers given again under the repeat policy
	Recorded  int // interactions recorded
	Forwarded int // requests sent upstream
}

// Summary reports the counts so far.
func (e *Engine) Summary() Summary {
	sum := Summary{Mode: e.mode, Forwarded: int(e.forwarded.Load()), Recorded: int(e.recorded.Load())}
	if x := e.index.Load(); x != nil {
		st := x.Stats()
		sum.Replayed, sum.Unused, sum.Misses, sum.Repeated = st.Replayed, st.Unused, st.Misses, st.Repeated
		if e.mode == Auto {
			sum.Replayed -= sum.Recorded // recorded ones are indexed as used
		}
	}
	return sum
}

func (s Summary) String() string {
	switch s.Mode {
	case Record:
		return fmt.Sprintf("%d recorded", s.Recorded)
	case Passthrough:
		return fmt.Sprintf("%d forwarded", s.Forwarded)
	case Auto:
		return fmt.Sprintf("%d replayed, %d recorded, %d unused", s.Replayed, s.Recorded, s.Unused)
	}
	out := fmt.Sprintf("%d replayed, %d unused, %d misses", s.Replayed, s.Unused, s.Misses)
	if s.Repeated > 0 {
		out += fmt.Sprintf(" (%d metadata answers repeated)", s.Repeated)
	}
	return out
}

// Unused lists recorded interactions that were never replayed (replay and auto modes).
func (e *Engine) Unused() []matcher.Unused {
	if x := e.index.Load(); x != nil {
		return x.Unused()
	}
	return nil
}
