package uap

import (
	"firebreak"

	"github.com/ua-parser/uap-go/uaparser"
)

// ParseAll parses without the cache and without the literal prefilter: every
// uap-core expression runs, in order.
func (p *Parser) ParseAll(ua string) firebreak.Agent { return p.parse(ua, true) }

// ParseFiltered parses without the cache, with the prefilter.
func (p *Parser) ParseFiltered(ua string) firebreak.Agent { return p.parse(ua, false) }

// ParseLibrary derives the agent from the library's own ParseUserAgent,
// ParseOs and ParseDevice: the reference for the prefiltered rule scan.
func ParseLibrary(lib *uaparser.Parser, ua string) firebreak.Agent {
	return agent(lib.ParseUserAgent(ua), lib.ParseOs(ua), lib.ParseDevice(ua), ua)
}

// CacheLen returns the number of cached agents, both generations.
func (p *Parser) CacheLen() int {
	n := 0
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.RLock()
		n += len(s.cur) + len(s.old)
		s.mu.RUnlock()
	}
	return n
}

// Cached reports whether ua is in the cache.
func (p *Parser) Cached(ua string) bool {
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.RLock()
		_, a := s.cur[ua]
		_, b := s.old[ua]
		s.mu.RUnlock()
		if a || b {
			return true
		}
	}
	return false
}
