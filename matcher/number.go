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
	neg := strings.HasPrefix(lit, "-")
	s := strings.TrimPrefix(lit, "-")
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	first := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	if first < 0 {
		return "0"
	}
	last := strings.LastIndexFunc(digits, func(r rune) bool { return r != '0' })
	sig := digits[first : last+1]
	// value = d1.d2d3... × 10^(exp + len(intPart) - 1 - first)
	power, small := addExponent(exp, int64(len(intPart)-1-first))
	var b strings.Builder
	b.Grow(len(sig) + 24)
	if neg {
		b.WriteByte('-')
	}
	if n := int64(len(sig)); small && power >= -7 && power < n+21 {
		writePlain(&b, sig, power)
		return b.String()
	}
	b.WriteByte(sig[0])
	if len(sig) > 1 {
		b.WriteByte('.')
		b.WriteString(sig[1:])
	}
	b.WriteByte('e')
	text := strconv.FormatInt(power, 10)
	if !small {
		text = bigPower(exp, int64(len(intPart)-1-first))
	}
	if !strings.HasPrefix(text, "-") {
		b.WriteByte('+')
	}
	b.WriteString(text)
	return b.String()
}

// writePlain writes sig × 10^(power-len(sig)+1) without an exponent.
func writePlain(b *strings.Builder, sig string, power int64) {
	n := int64(len(sig))
	switch {
	case power < 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", int(-power-1)))
		b.WriteString(sig)
	case power+1 >= n:
		b.WriteString(sig)
		b.WriteString(strings.Repeat("0", int(power+1-n)))
	default:
		b.WriteString(sig[:power+1])
		b.WriteByte('.')
		b.WriteString(sig[power+1:])
	}
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
