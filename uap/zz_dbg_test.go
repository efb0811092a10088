package uap

import (
	"testing"
)

func TestZZDbg(t *testing.T) {
	p, _ := New(0)
	m := p.m
	for _, ua := range []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 16_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.2.0 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.4000.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0.0",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
	} {
		found := m.lits.find(ua)
		for _, i := range []int{50} {
			for _, g := range m.ua[i].need {
				for _, id := range g {
					if found[id>>6]&(1<<(id&63)) != 0 {
						t.Logf("ua%d: %q present in %.50s", i, m.lits.lits[id], ua)
					}
				}
			}
		}
		for _, i := range []int{0, 623} {
			for _, g := range m.device[i].need {
				for _, id := range g {
					if found[id>>6]&(1<<(id&63)) != 0 {
						t.Logf("dev%d: %q present in %.50s", i, m.lits.lits[id], ua)
					}
				}
			}
		}
	}
}
