package secrets

import "bytes"

// hintMask says which of hintWords a text holds, a bit each.
type hintMask uint64

// hintWords are the words the detectors' quick tests look for: their hints, and the words
// holdsSecretName looks for. A text's lower case is read once for all of them (findHints),
// not once per word.
var (
	hintWords    []string
	hintsByFirst [256][]uint8 // the words starting with each byte
	nameMask     hintMask     // any of nameWords
	keyBit       hintMask     // "key"
	tokenBit     hintMask     // "token"
)

func init() {
	for i := range detectors {
		detectors[i].hintMask = hintsOf(detectors[i].hints...)
	}
	nameMask, keyBit, tokenBit = hintsOf(nameWords...), hintsOf("key"), hintsOf("token")
}

// hintsOf registers words and returns their bits.
func hintsOf(words ...string) hintMask {
	var m hintMask
	for _, w := range words {
		i := -1
		for j, have := range hintWords {
			if have == w {
				i = j
			}
		}
		if i < 0 {
			i = len(hintWords)
			if i == 64 {
				panic("secrets: more than 64 hint words")
			}
			hintWords = append(hintWords, w)
			hintsByFirst[w[0]] = append(hintsByFirst[w[0]], uint8(i))
		}
		m |= 1 << i
	}
	return m
}

// findHints reports which hint words lower, a text in ASCII lower case, holds.
func findHints(lower []byte) hintMask {
	var m hintMask
	for i, c := range lower {
		for _, h := range hintsByFirst[c] {
			if bytes.HasPrefix(lower[i:], []byte(hintWords[h])) {
				m |= 1 << h
			}
		}
	}
	return m
}
