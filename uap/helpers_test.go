package uap_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"
)

// androidModels and the templates below are real user agents of 2023-2024
// browsers; realisticUA varies their versions and devices the way a
// credential-stuffing tool rotating user agents does.
var androidModels = []string{"Pixel 8", "SM-S918B", "SM-A546B", "Redmi Note 12", "moto g(60)", "CPH2411", "V2207", "K"}

// realisticUA returns the i-th of many distinct browser user agents: ten
// templates, with version numbers counting up so that no two are equal.
func realisticUA(i int) string {
	u := i / 10
	major, build, patch := 100+u%25, 4000+u/25%1000, u/25000
	model := androidModels[u%len(androidModels)]
	ios, iosMinor, iosPatch := 15+u%3, u/3%7, u/21
	switch i % 10 {
	case 0:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", major, build, patch)
	case 1:
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d.%d Mobile/15E148 Safari/604.1", ios, iosMinor, ios, iosMinor, iosPatch)
	case 2:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36", 10+u%5, model, major, build, patch)
	case 3:
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.%d.%d", major, major, u/25%10, u/250)
	case 4:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.%d.%d", major, major, build, patch)
	case 5:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%d.%d Chrome/%d.0.%d.%d Mobile Safari/537.36", 10+u%5, model, 20+u%6, u/6%10, major, build, patch)
	case 6:
		return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d.%d Mobile/15E148 Safari/604.1", ios, iosMinor, ios, iosMinor, iosPatch)
	case 7:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%d) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d.%d Safari/605.1.15", u%8, ios, iosMinor, u/8)
	case 8:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.%d.%d", major, major, u/25%10, u/250)
	}
	return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", major, build, patch)
}

func realisticUAs(n int) []string {
	uas := make([]string, n)
	for i := range uas {
		uas[i] = realisticUA(i)
	}
	return uas
}

// sampleUAs reads testdata/uas-sample.txt: every 200th line of the 100,000
// user agents in uap-go's file "uas" (see testdata/README.md), mostly
// crawlers, tools and old or rare browsers.
func sampleUAs(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/uas-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var uas []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		uas = append(uas, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return uas
}
