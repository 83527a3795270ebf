package matcher

import (
	"strconv"
	"strings"
)

// canonicalNumber spells equal JSON numbers alike, in time linear in the literal: 1, 1.0, 1e0,
// 10e-1 and 1E+0 are one value, as are 1e21 and 1000000000000000000000, and -0 is 0. The literal
// (already checked against JSON's grammar) is reduced to a decimal normal form — sign, digits
// without leading or trailing zeros, and the power of ten of the first digit, kept as decimal
// text when it does not fit an int64 — and written plainly when that stays short, else as
// d.ddde±X. No float or big-number arithmetic is involved, so 1e6666666 costs what its text does.
func canonicalNumber(lit string) string {
	if plainInteger(lit) {
		return lit // already canonical: the common case, without work or allocation
	}
	return string(appendCanonicalNumber(nil, lit))
}

// appendCanonicalNumber appends lit's canonical spelling to b.
func appendCanonicalNumber(b []byte, lit string) []byte {
	if plainInteger(lit) {
		return append(b, lit...)
	}
	neg := lit[0] == '-'
	s := lit
	if neg {
		s = s[1:]
	}
	mant, exp := s, ""
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		mant, exp = s[:e], s[e+1:]
	}
	intPart, frac := mant, ""
	if dot := strings.IndexByte(mant, '.'); dot >= 0 {
		intPart, frac = mant[:dot], mant[dot+1:]
	}
	// The digits are intPart then frac; digit(i) reads them as one run.
	n := len(intPart) + len(frac)
	digit := func(i int) byte {
		if i < len(intPart) {
			return intPart[i]
		}
		return frac[i-len(intPart)]
	}
	first, last := 0, n-1
	for first < n && digit(first) == '0' {
		first++
	}
	if first == n {
		return append(b, '0')
	}
	for digit(last) == '0' {
		last--
	}
	sigLen := last - first + 1
	appendSig := func(b []byte, from, to int) []byte { // significant digits [from, to)
		for i := from; i < to; i++ {
			b = append(b, digit(first+i))
		}
		return b
	}
	// value = d1.d2d3... × 10^(exp + len(intPart) - 1 - first)
	delta := int64(len(intPart) - 1 - first)
	power, small := addExponent(exp, delta)
	if neg {
		b = append(b, '-')
	}
	if small && power >= -7 && power < int64(sigLen)+21 { // plainly
		switch {
		case power < 0:
			b = append(b, "0."...)
			for range -power - 1 {
				b = append(b, '0')
			}
			b = appendSig(b, 0, sigLen)
		case power+1 >= int64(sigLen):
			b = appendSig(b, 0, sigLen)
			for range power + 1 - int64(sigLen) {
				b = append(b, '0')
			}
		default:
			b = appendSig(b, 0, int(power)+1)
			b = append(b, '.')
			b = appendSig(b, int(power)+1, sigLen)
		}
		return b
	}
	b = appendSig(b, 0, 1)
	if sigLen > 1 {
		b = append(b, '.')
		b = appendSig(b, 1, sigLen)
	}
	b = append(b, 'e')
	if !small {
		text := bigPower(exp, delta)
		if text[0] != '-' {
			b = append(b, '+')
		}
		return append(b, text...)
	}
	if power >= 0 {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, power, 10)
}

// plainInteger: an integer literal without leading zeros, short enough to be written plainly,
// and not -0.
func plainInteger(lit string) bool {
	digits := strings.TrimPrefix(lit, "-")
	if digits == "" || len(digits) > 21 || digits[0] == '0' && (len(digits) > 1 || lit[0] == '-') {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// maxSmallExponent keeps exponent arithmetic inside int64.
const maxSmallExponent = 1 << 60

// addExponent is the exponent text (optionally signed, possibly empty) plus delta, when it fits
// an int64 comfortably.
func addExponent(exp string, delta int64) (int64, bool) {
	if exp == "" {
		return delta, true
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || e > maxSmallExponent || e < -maxSmallExponent {
		return 0, false
	}
	return e + delta, true
}

// bigPower is exp + delta for an exponent too large for an int64, as decimal text, by schoolbook
// addition on the digits: linear in the exponent's length. |exp| is far beyond |delta| (which
// is bounded by the literal's length), so the sign is exp's.
func bigPower(exp string, delta int64) string {
	neg := strings.HasPrefix(exp, "-")
	mag := strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
	if neg {
		delta = -delta // work on the magnitude
	}
	d := []byte(mag)
	if delta >= 0 {
		carry := delta
		for i := len(d) - 1; i >= 0 && carry > 0; i-- {
			v := int64(d[i]-'0') + carry%10
			carry /= 10
			if v >= 10 {
				v -= 10
				carry++
			}
			d[i] = byte('0' + v)
		}
		if carry > 0 {
			d = append([]byte(strconv.FormatInt(carry, 10)), d...)
		}
	} else {
		borrow := -delta
		for i := len(d) - 1; i >= 0 && borrow > 0; i-- {
			v := int64(d[i]-'0') - borrow%10
			borrow /= 10
			if v < 0 {
				v += 10
				borrow++
			}
			d[i] = byte('0' + v)
		}
	}
	out := strings.TrimLeft(string(d), "0")
	if neg {
		return "-" + out
	}
	return out
}
