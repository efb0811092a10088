package ingest

// interner returns one shared string per distinct byte sequence so that
// repeated values (user agents, cities, apps) cost neither an allocation nor
// memory per event. It is bounded: when full it starts over. A nil *interner
// simply allocates. It is not safe for concurrent use.
type interner struct {
	m   map[string]string
	max int
}

// maxInternLen keeps one-off long values (unique user agents) from filling
// the table; they are allocated as usual.
const maxInternLen = 512

func newInterner(max int) *interner {
	return &interner{m: make(map[string]string, 32), max: max}
}

func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if in == nil || len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// countryCodes holds every two-letter upper-case code, so that a country
// never allocates.
var countryCodes = func() (t [26 * 26]string) {
	for i := range t {
		t[i] = string([]byte{byte('A' + i/26), byte('A' + i%26)})
	}
	return t
}()

// country upper-cases an ASCII two-letter code and returns the shared string;
// anything else is returned as is for Validate to reject.
func country(b []byte, in *interner) string {
	if len(b) == 2 {
		c0, c1 := upper(b[0]), upper(b[1])
		if c0 >= 'A' && c0 <= 'Z' && c1 >= 'A' && c1 <= 'Z' {
			return countryCodes[int(c0-'A')*26+int(c1-'A')]
		}
	}
	return in.str(b)
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// oneOfBytes returns the member of set equal to b, or b as a new string.
func oneOfBytes(b []byte, set []string, in *interner) string {
	for _, s := range set {
		if string(b) == s {
			return s
		}
	}
	return in.str(b)
}
