package sim

import "math/rand/v2"

// accountIDs maps person i to a scattered account number through the
// bijection i -> (i*a + b) mod space, so that ids look random ("u0012345"),
// existence is a multiplication, and mistyped or made-up ids can be checked
// to name no account.
type accountIDs struct {
	n     uint64 // number of accounts
	width int    // digits after "u"
	space uint64 // 10^width, at least ten times n
	a, b  uint64
	ainv  uint64
}

func newAccountIDs(n int, seed uint64) accountIDs {
	ids := accountIDs{n: uint64(n), width: 7, space: 10_000_000}
	for ids.space < 10*ids.n {
		ids.space *= 10
		ids.width++
	}
	h := mix(seed ^ 0xacc0)
	ids.a = h%ids.space | 1
	for ids.a%5 == 0 || ids.a < 3 {
		ids.a += 2
	}
	ids.a %= ids.space
	ids.b = (h >> 32) % ids.space
	ids.ainv = modInverse(ids.a, ids.space)
	return ids
}

// modInverse returns x with a*x = 1 mod m; a and m are coprime.
func modInverse(a, m uint64) uint64 {
	t, newT := int64(0), int64(1)
	r, newR := int64(m), int64(a)
	for newR != 0 {
		q := r / newR
		t, newT = newT, t-q*newT
		r, newR = newR, r-q*newR
	}
	if t < 0 {
		t += int64(m)
	}
	return uint64(t)
}

func (ids *accountIDs) number(i int) uint64 {
	return (uint64(i)*ids.a + ids.b) % ids.space
}

func (ids *accountIDs) exists(num uint64) bool {
	if num >= ids.space {
		return false
	}
	return (num+ids.space-ids.b)%ids.space*ids.ainv%ids.space < ids.n
}

func (ids *accountIDs) format(num uint64, width int) string {
	b := make([]byte, width+1)
	b[0] = 'u'
	for i := width; i >= 1; i-- {
		b[i] = byte('0' + num%10)
		num /= 10
	}
	return string(b)
}

// id returns the account id of person i.
func (ids *accountIDs) id(i int) string {
	return ids.format(ids.number(i), ids.width)
}

// typo returns a mistyped form of person i's id that names no account: one
// digit replaced or two neighbours swapped.
func (ids *accountIDs) typo(r *rand.Rand, i int) string {
	num := ids.number(i)
	for range 20 {
		d := []byte(ids.format(num, ids.width))[1:]
		p := r.IntN(len(d))
		if r.IntN(2) == 0 && p+1 < len(d) {
			d[p], d[p+1] = d[p+1], d[p]
		} else {
			d[p] = byte('0' + (int(d[p]-'0')+1+r.IntN(9))%10)
		}
		var m uint64
		for _, c := range d {
			m = m*10 + uint64(c-'0')
		}
		if m != num && !ids.exists(m) {
			return ids.format(m, ids.width)
		}
	}
	// An extra digit can never name an account.
	return ids.format(num*10+uint64(r.IntN(10)), ids.width+1)
}

// unknown returns a well-formed id that names no account, as found in
// leaked credential lists.
func (ids *accountIDs) unknown(r *rand.Rand) string {
	for {
		if m := r.Uint64N(ids.space); !ids.exists(m) {
			return ids.format(m, ids.width)
		}
	}
}
