package secrets

import (
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
