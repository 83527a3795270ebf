package secrets

import (
	"math"
	"slices"

	"github.com/azvcr/azvcr/internal/litset"
)

// hintMask says which of hintWords a text holds, a bit each.
type hintMask uint64

// hintWords are the words the detectors' quick tests look for: their hints, and the words
// holdsSecretName looks for. A text's lower case is read once for all of them (findHints),
// not once per word.
var (
	hintWords []string
	hintSet   *litset.Set
	nameMask  hintMask // any of nameWords
	keyBit    hintMask // "key"
	tokenBit  hintMask // "token"
)

func init() {
	for i := range detectors {
		detectors[i].hintMask = hintsOf(detectors[i].hints...)
	}
	nameMask, keyBit, tokenBit = hintsOf(nameWords...), hintsOf("key"), hintsOf("token")
	hintSet = litset.New(hintWords)
	detectorHints, hintlessRun = detectorsNeed(detectors)
}

// detectorHints has the hints of every detector that has some, and a detector with none applies
// only to a text whose run is hintlessRun or longer: a text with none of those hints and a
// shorter run is one no detector applies to (findHits does not try them one by one).
var (
	detectorHints hintMask
	hintlessRun   int
)

// detectorsNeed is detectorHints and hintlessRun for ds: the least minRun of the detectors
// without hints (0, which lets no text off, when one of them has no minRun either).
func detectorsNeed(ds []detector) (hints hintMask, run int) {
	run = math.MaxInt
	for _, d := range ds {
		if d.hintMask != 0 {
			hints |= d.hintMask
		} else {
			run = min(run, d.minRun)
		}
	}
	return hints, run
}

// hintsOf registers words and returns their bits.
func hintsOf(words ...string) hintMask {
	var m hintMask
	for _, w := range words {
		i := slices.Index(hintWords, w)
		if i < 0 {
			i = len(hintWords)
			hintWords = append(hintWords, w) // litset.New refuses more than it can hold
		}
		m |= 1 << i
	}
	return m
}

// findHints reports which hint words lower, a text in ASCII lower case, holds.
func findHints(lower []byte) hintMask { return hintMask(hintSet.HeldBytes(lower)) }
