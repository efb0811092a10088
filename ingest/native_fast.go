package ingest

// scanner walks one flat JSON object. Every method returns false on anything
// it does not handle (escapes, nesting, malformed input); the caller then
// falls back to the encoding/json path, which decides and reports.
type scanner struct {
	b []byte
	i int
}

// fastNative fills r from line without allocating and reports whether it
// could. It never rejects: false only means "take the slow path".
func fastNative(line []byte, r *rawNative) bool {
	s := scanner{b: line}
	s.ws()
	if !s.eat('{') {
		return false
	}
	s.ws()
	if !s.eat('}') {
		if !s.members(func(key []byte) bool { return r.setFast(&s, key) }) {
			return false
		}
	}
	s.ws()
	return s.i == len(s.b)
}

// members scans `"key": value, ...}` after the opening brace; member scans
// one value for key.
func (s *scanner) members(member func(key []byte) bool) bool {
	for {
		s.ws()
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		if !member(key) {
			return false
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

func (r *rawNative) setFast(s *scanner, key []byte) bool {
	id := fieldIndex(key)
	if id < 0 {
		return s.skipScalar()
	}
	if r.seen&(1<<id) != 0 {
		return false
	}
	r.seen |= 1 << id
	if s.null() {
		return true
	}
	var ok bool
	switch {
	case id == fLabel:
		return s.eat('{') && s.label(r)
	case id >= fASN:
		r.val[id], ok = s.num()
	default:
		r.val[id], ok = s.str()
	}
	return ok
}

func (s *scanner) label(r *rawNative) bool {
	r.hasLabel = true
	s.ws()
	if s.eat('}') {
		return true
	}
	return s.members(func(key []byte) bool {
		id := labelIndex(key)
		if id < 0 {
			return s.skipScalar()
		}
		if r.labelSeen&(1<<id) != 0 {
			return false
		}
		r.labelSeen |= 1 << id
		if s.null() {
			return true
		}
		switch id {
		case lCohort:
			var ok bool
			r.cohort, ok = s.str()
			return ok
		case lATO:
			return s.boolean(&r.ato)
		}
		return s.boolean(&r.attack)
	})
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) lit(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

func (s *scanner) null() bool { return s.lit("null") }

func (s *scanner) boolean(v *bool) bool {
	if s.lit("true") {
		*v = true
		return true
	}
	*v = false
	return s.lit("false")
}

// str scans a string without escapes or control characters and returns its
// contents. The line is already known to be valid UTF-8.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// num scans a number that follows the JSON grammar exactly.
func (s *scanner) num() ([]byte, bool) {
	start := s.i
	s.eat('-')
	if s.eat('0') {
		// no leading zeros
	} else if s.digits() == 0 {
		return nil, false
	}
	if s.eat('.') && s.digits() == 0 {
		return nil, false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// skipScalar skips the value of an unknown key; objects and arrays are left
// to the slow path.
func (s *scanner) skipScalar() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := s.num()
		return ok
	}
	return s.lit("true") || s.lit("false") || s.null()
}
