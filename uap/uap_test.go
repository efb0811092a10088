package uap_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"firebreak"
	"firebreak/uap"

	"github.com/ua-parser/uap-go/uaparser"
)

func newParser(t testing.TB, size int) *uap.Parser {
	t.Helper()
	p, err := uap.New(size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParse(t *testing.T) {
	p := newParser(t, 64)
	tests := []struct {
		name, ua string
		want     firebreak.Agent
	}{
		{"chrome windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
			firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Chrome", Major: 122}},
		{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
			firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Mobile Safari", Major: 17}},
		{"safari ipad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			firebreak.Agent{DeviceType: "tablet", OS: "iOS", Browser: "Mobile Safari", Major: 16}},
		{"chrome android phone", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36",
			firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Chrome Mobile", Major: 121}},
		{"android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			firebreak.Agent{DeviceType: "tablet", OS: "Android", Browser: "Chrome", Major: 120}},
		{"firefox mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.3; rv:123.0) Gecko/20100101 Firefox/123.0",
			firebreak.Agent{DeviceType: "desktop", OS: "Mac OS X", Browser: "Firefox", Major: 123}},
		{"firefox linux", "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
			firebreak.Agent{DeviceType: "desktop", OS: "Linux", Browser: "Firefox", Major: 124}},
		{"firefox ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
			firebreak.Agent{DeviceType: "desktop", OS: "Ubuntu", Browser: "Firefox", Major: 124}},
		{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92",
			firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Edge", Major: 122}},
		{"samsung internet phone", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
			firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Samsung Internet", Major: 24}},
		{"chrome ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1",
			firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Chrome Mobile iOS", Major: 122}},
		{"chrome os", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
			firebreak.Agent{DeviceType: "desktop", OS: "Chrome OS", Browser: "Chrome", Major: 122}},
		{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			firebreak.Agent{DeviceType: "bot", OS: "Other", Browser: "Googlebot", Major: 2}},
		{"googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			firebreak.Agent{DeviceType: "bot", OS: "Android", Browser: "Googlebot", Major: 2}},
		{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
			firebreak.Agent{DeviceType: "bot", OS: "Other", Browser: "bingbot", Major: 2}},
		{"curl", "curl/8.5.0", firebreak.Agent{DeviceType: "other", OS: "Other", Browser: "curl", Major: 8}},
		{"python requests", "python-requests/2.31.0", firebreak.Agent{DeviceType: "other", OS: "Other", Browser: "Python Requests", Major: 2}},
		{"go http client", "Go-http-client/1.1", firebreak.Agent{DeviceType: "other", OS: "Other", Browser: "Go-http-client", Major: 1}},
		{"rules are case-sensitive", "CURL/8.5.0", firebreak.Agent{DeviceType: "other", OS: "Other", Browser: "Other"}},
		{"kelvin sign folds to k", "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; \u212aindle Fire Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
			firebreak.Agent{DeviceType: "tablet", OS: "Android", Browser: "Android", Major: 4}},
		{"version too large", "Mozilla/5.0 (X11; Linux x86_64; rv:99999.0) Gecko/20100101 Firefox/99999.0",
			firebreak.Agent{DeviceType: "desktop", OS: "Linux", Browser: "Firefox"}},
		{"garbage", "\x00not a browser", firebreak.Agent{DeviceType: "other", OS: "Other", Browser: "Other"}},
		{"empty", "", firebreak.Agent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // miss, then cache hit
				if got := p.Parse(tt.ua); got != tt.want {
					t.Fatalf("Parse(%q) = %+v, want %+v", tt.ua, got, tt.want)
				}
			}
			if got := p.ParseAll(tt.ua); tt.ua != "" && got != tt.want {
				t.Fatalf("without the prefilter: %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewRejectsNegativeCache(t *testing.T) {
	if _, err := uap.New(-1); err == nil {
		t.Fatal("New(-1) succeeded, want error")
	}
}

// TestConcurrent runs under -race: parallel parsing with evictions from a
// tiny cache must agree with an uncached parser.
func TestConcurrent(t *testing.T) {
	cached, plain := newParser(t, 4), newParser(t, 0)
	uas := make([]string, 20)
	want := make([]firebreak.Agent, len(uas))
	for i := range uas {
		uas[i] = fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/%d.0.0.0 Safari/537.36", 100+i)
		want[i] = plain.Parse(uas[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				k := (i + g) % len(uas)
				if got := cached.Parse(uas[k]); got != want[k] {
					t.Errorf("Parse(%q) = %+v, want %+v", uas[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestPrefilterMatchesLibrary holds the prefiltered rule scan to the library
// itself (uaparser's ParseUserAgent, ParseOs and ParseDevice) on rare and
// odd user agents and on rotated browser versions.
func TestPrefilterMatchesLibrary(t *testing.T) {
	p := newParser(t, 0)
	lib, err := uaparser.New(uaparser.WithCacheSize(1))
	if err != nil {
		t.Fatal(err)
	}
	uas := append(sampleUAs(t), realisticUAs(100)...)
	if testing.Short() {
		uas = append(uas[:50], uas[len(uas)-20:]...)
	}
	uas = append(uas, "", " ", "Mozilla/5.0 \xff\xfe", "\u017fpider", "BOT", "x\u212aindle/1.0")
	for _, ua := range uas {
		if got, want := p.ParseFiltered(ua), uap.ParseLibrary(lib, ua); got != want {
			t.Errorf("Parse(%q) = %+v, library gives %+v", ua, got, want)
		}
	}
}

// TestPrefilterMatchesLibraryCorpus runs the same comparison over a whole
// file of user agents, one per line, named by $UAP_CORPUS (uap-go's "uas"
// file of 100,000 is the intended one); it is skipped otherwise.
func TestPrefilterMatchesLibraryCorpus(t *testing.T) {
	path := os.Getenv("UAP_CORPUS")
	if path == "" {
		t.Skip("UAP_CORPUS not set")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := newParser(t, 0)
	lib, err := uaparser.New(uaparser.WithCacheSize(1))
	if err != nil {
		t.Fatal(err)
	}
	uas := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	bad := 0
	for _, ua := range uas {
		if got, want := p.ParseFiltered(ua), uap.ParseLibrary(lib, ua); got != want {
			if bad++; bad <= 20 {
				t.Errorf("Parse(%q) = %+v, library gives %+v", ua, got, want)
			}
		}
	}
	t.Logf("%d user agents, %d differences", len(uas), bad)
}

// FuzzParse checks that Parse never panics, returns an agent the native
// format accepts, and agrees with the library.
func FuzzParse(f *testing.F) {
	for _, ua := range append(realisticUAs(10), "curl/8.5.0", "Googlebot/2.1", "\u212aindle", "\xff") {
		f.Add(ua)
	}
	p := newParser(f, 16)
	lib, err := uaparser.New(uaparser.WithCacheSize(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		got := p.Parse(ua)
		if len(got.OS) > firebreak.MaxShortField || len(got.Browser) > firebreak.MaxShortField || got.Major < 0 || got.Major > 10000 {
			t.Fatalf("Parse(%q) = %+v: outside the native format's limits", ua, got)
		}
		if ua == "" {
			return
		}
		if want := uap.ParseLibrary(lib, ua); got != want {
			t.Fatalf("Parse(%q) = %+v, library gives %+v", ua, got, want)
		}
	})
}

// TestCacheBounded floods a small cache with distinct user agents: it never
// holds more than its size, and an agent in steady use stays cached.
func TestCacheBounded(t *testing.T) {
	const size = 256
	p := newParser(t, size)
	hot := realisticUA(0)
	for i, ua := range realisticUAs(5000) {
		p.Parse(ua)
		if i%50 == 0 {
			p.Parse(hot)
		}
		if n := p.CacheLen(); n > size {
			t.Fatalf("after %d user agents the cache holds %d, want at most %d", i+1, n, size)
		}
	}
	if !p.Cached(hot) {
		t.Error("an agent parsed every 50 calls was evicted by one-off agents")
	}
}

const benchUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"

func BenchmarkParseHit(b *testing.B) {
	p := newParser(b, 1024)
	p.Parse(benchUA)
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(benchUA)
	}
}

func BenchmarkParseHitParallel(b *testing.B) {
	p := newParser(b, 1024)
	p.Parse(benchUA)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Parse(benchUA)
		}
	})
}

// BenchmarkParseMiss measures the steady-state cost of a cache miss: after a
// warm-up, every call parses without a cache. "browsers" are 200,000
// distinct rotated versions of ten real browser user agents (what a
// credential-stuffing tool sends); "rare" is a sample of uap-go's test
// corpus, mostly crawlers and tools. "prefiltered" is what Parse does on a
// miss; "library" is uaparser's own ParseUserAgent, ParseOs and ParseDevice.
func BenchmarkParseMiss(b *testing.B) {
	lib, err := uaparser.New(uaparser.WithCacheSize(1))
	if err != nil {
		b.Fatal(err)
	}
	p := newParser(b, 0)
	sets := []struct {
		name string
		uas  []string
	}{{"browsers", realisticUAs(200_000)}, {"rare", sampleUAs(b)}}
	for _, set := range sets {
		for _, mode := range []struct {
			name  string
			parse func(string) firebreak.Agent
		}{
			{"prefiltered", p.ParseFiltered},
			{"library", func(ua string) firebreak.Agent { return uap.ParseLibrary(lib, ua) }},
		} {
			b.Run(set.name+"/"+mode.name, func(b *testing.B) {
				for _, ua := range set.uas[:20] {
					mode.parse(ua) // warm-up
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					mode.parse(set.uas[i%len(set.uas)])
					i++
				}
			})
		}
	}
}

// BenchmarkParseDistinct runs Parse with a 4096-entry cache over 200,000
// distinct browser user agents: every call misses and evicts.
func BenchmarkParseDistinct(b *testing.B) {
	uas := realisticUAs(200_000)
	p := newParser(b, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Parse(uas[i%len(uas)])
		i++
	}
}
