// Package uap parses user agent strings into firebreak.Agent with the
// ua-parser project's regular expressions (github.com/ua-parser/uap-go), in
// front of a bounded, concurrent cache. It implements ingest.AgentParser.
//
// uaparser tries about 1,200 expressions in order on every new user agent,
// about 1.5 ms in steady state (the expressions are compiled once, in New;
// the cost is matching, not warm-up). Parse gives the same results, but
// first finds which literal text occurs in the user agent and runs only the
// expressions that could match (literals.go, filter.go): a few tens of
// microseconds for a browser, more for crawlers, whose uap-core expressions
// are large.
package uap

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"firebreak"

	"github.com/ua-parser/uap-go/uaparser"
)

const shards = 16

// Parser parses user agents. It is safe for concurrent use.
type Parser struct {
	m        *matcher
	seed     maphash.Seed
	perShard int
	shards   [shards]shard
}

// shard is one part of the cache, in two generations: when cur is full it
// becomes old and a new cur starts, and a hit in old moves back into cur.
// Agents in use survive a flood of one-off user agents (credential stuffing
// rotates thousands), and the shard never holds more than 2*perShard.
type shard struct {
	mu       sync.RWMutex
	cur, old map[string]firebreak.Agent
}

// New returns a Parser that caches at most max(cacheSize, 32) distinct user
// agents; 0 disables the cache. A miss costs tens of microseconds for a
// browser and up to a few hundred for a crawler (BenchmarkParseMiss), so
// size the cache for the working set of distinct agents. New itself takes
// a few hundred milliseconds to compile the expressions: build one Parser
// and share it.
func New(cacheSize int) (*Parser, error) {
	if cacheSize < 0 {
		return nil, fmt.Errorf("new user agent parser: cache size %d is negative", cacheSize)
	}
	// Only the library's compiled expressions are used; its own caches (locked
	// ARC caches, one per section) are bypassed, so keep them minimal.
	p, err := uaparser.New(uaparser.WithCacheSize(1))
	if err != nil {
		return nil, fmt.Errorf("new user agent parser: %w", err)
	}
	up := &Parser{m: newMatcher(p), seed: maphash.MakeSeed()}
	if cacheSize > 0 {
		up.perShard = max(1, cacheSize/(2*shards))
	}
	for i := range up.shards {
		up.shards[i].cur = make(map[string]firebreak.Agent)
	}
	return up, nil
}

// Parse returns the agent of ua: device type ("desktop", "mobile", "tablet",
// "bot" or "other"), OS family, browser family and browser major version (0
// when unknown). The empty string gives the zero Agent. The families are at
// most firebreak.MaxShortField bytes and the major version at most 10000, as
// the native event format requires.
func (p *Parser) Parse(ua string) firebreak.Agent {
	if ua == "" {
		return firebreak.Agent{}
	}
	if p.perShard == 0 {
		return p.parse(ua, false)
	}
	s := &p.shards[maphash.String(p.seed, ua)%shards]
	s.mu.RLock()
	a, ok := s.cur[ua]
	var old bool
	if !ok {
		a, old = s.old[ua]
	}
	s.mu.RUnlock()
	if ok {
		return a
	}
	if !old {
		a = p.parse(ua, false)
	}
	s.mu.Lock()
	s.put(ua, a, p.perShard)
	s.mu.Unlock()
	return a
}

func (s *shard) put(ua string, a firebreak.Agent, limit int) {
	if len(s.cur) >= limit {
		s.old, s.cur = s.cur, make(map[string]firebreak.Agent, limit)
	}
	s.cur[ua] = a
}

// maxMajor matches the native format's limit on browser_major.
const maxMajor = 10000

func (p *Parser) parse(ua string, all bool) firebreak.Agent {
	browser, os, dev := p.m.parse(ua, all)
	return agent(&browser, &os, &dev, ua)
}

// agent derives the Agent from uaparser's results.
func agent(browser *uaparser.UserAgent, os *uaparser.Os, dev *uaparser.Device, ua string) firebreak.Agent {
	major, err := strconv.Atoi(browser.Major)
	if err != nil || major < 0 || major > maxMajor {
		major = 0
	}
	return firebreak.Agent{
		DeviceType: deviceType(browser.Family, os.Family, dev.Family, ua),
		OS:         clip(os.Family),
		Browser:    clip(browser.Family),
		Major:      major,
	}
}

// clip keeps a family within firebreak.MaxShortField bytes, cutting at a
// rune boundary, and replaces one with control characters or invalid UTF-8
// (only possible when ua has them) by "Other".
func clip(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "Other"
		}
	}
	if !utf8.ValidString(s) {
		return "Other"
	}
	if len(s) <= firebreak.MaxShortField {
		return s
	}
	n := firebreak.MaxShortField
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var mobileOS = map[string]bool{
	"iOS": true, "Android": true, "Windows Phone": true, "BlackBerry OS": true,
	"BlackBerry Tablet OS": true, "KaiOS": true, "Symbian OS": true, "Firefox OS": true,
	"Tizen": true, "HarmonyOS": true, "Sailfish": true, "webOS": true, "Windows Mobile": true,
}

var desktopOS = map[string]bool{
	"Windows": true, "Mac OS X": true, "macOS": true, "Linux": true, "Ubuntu": true,
	"Chrome OS": true, "ChromeOS": true, "Fedora": true, "Debian": true, "FreeBSD": true,
	"OpenBSD": true, "NetBSD": true, "Solaris": true, "Red Hat": true, "SUSE": true,
	"Mint": true, "Arch Linux": true, "Gentoo": true, "Mandriva": true, "CentOS": true,
}

// deviceType derives the device class from the parsed families and the raw
// string (Android tablets are Android without the "Mobile" token).
func deviceType(browser, os, device, ua string) string {
	switch {
	case device == "Spider", hasFold(browser, "bot"), hasFold(browser, "spider"), hasFold(browser, "crawler"):
		return "bot"
	case hasFold(device, "ipad"), hasFold(device, "tablet"), hasFold(device, "kindle"),
		os == "Android" && !strings.Contains(ua, "Mobile"):
		return "tablet"
	case mobileOS[os]:
		return "mobile"
	case desktopOS[os], strings.HasPrefix(os, "Windows"):
		return "desktop"
	}
	return "other"
}

func hasFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
