package sim

import (
	"fmt"
	"time"

	"firebreak"
)

// tmpl identifies a user agent template: a device, OS and browser whose UA
// string changes only with the browser version.
type tmpl uint8

const (
	tWinChrome tmpl = iota
	tWinEdge
	tWinFirefox
	tWinOpera
	tMacSafari
	tMacChrome
	tMacFirefox
	tLinuxChrome
	tLinuxFirefox
	tChromeOS
	tAndroidChrome
	tAndroidSamsung
	tAndroidFirefox
	tIPhoneSafari
	tIPhoneChrome
	tIPadSafari // iPadOS Safari sends the macOS user agent
	tIPadChrome
	tAndroidTablet
	tWin7Chrome      // Windows 7 is stuck at Chrome 109
	tOldIPhoneSafari // an iPhone that no longer gets iOS updates
	numTemplates
)

// schedule is how a browser's version moves over time.
type schedule uint8

const (
	schedChrome schedule = iota
	schedFirefox
	schedSafari
	schedSamsung
	schedFrozen
)

type uaTemplate struct {
	agent firebreak.Agent // Major is filled per version
	sched schedule
}

// Families are named as uap-core names them, so that the Agent filled here is
// what a decoder derives from the string.
var templates = [numTemplates]uaTemplate{
	tWinChrome:       {firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Chrome"}, schedChrome},
	tWinEdge:         {firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Edge"}, schedChrome},
	tWinFirefox:      {firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Firefox"}, schedFirefox},
	tWinOpera:        {firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Opera"}, schedChrome},
	tMacSafari:       {firebreak.Agent{DeviceType: "desktop", OS: "Mac OS X", Browser: "Safari"}, schedSafari},
	tMacChrome:       {firebreak.Agent{DeviceType: "desktop", OS: "Mac OS X", Browser: "Chrome"}, schedChrome},
	tMacFirefox:      {firebreak.Agent{DeviceType: "desktop", OS: "Mac OS X", Browser: "Firefox"}, schedFirefox},
	tLinuxChrome:     {firebreak.Agent{DeviceType: "desktop", OS: "Linux", Browser: "Chrome"}, schedChrome},
	tLinuxFirefox:    {firebreak.Agent{DeviceType: "desktop", OS: "Ubuntu", Browser: "Firefox"}, schedFirefox},
	tChromeOS:        {firebreak.Agent{DeviceType: "desktop", OS: "Chrome OS", Browser: "Chrome"}, schedChrome},
	tAndroidChrome:   {firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Chrome Mobile"}, schedChrome},
	tAndroidSamsung:  {firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Samsung Internet"}, schedSamsung},
	tAndroidFirefox:  {firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Firefox Mobile"}, schedFirefox},
	tIPhoneSafari:    {firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Mobile Safari"}, schedSafari},
	tIPhoneChrome:    {firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Chrome Mobile iOS"}, schedChrome},
	tIPadSafari:      {firebreak.Agent{DeviceType: "desktop", OS: "Mac OS X", Browser: "Safari"}, schedSafari},
	tIPadChrome:      {firebreak.Agent{DeviceType: "tablet", OS: "iOS", Browser: "Chrome Mobile iOS"}, schedChrome},
	tAndroidTablet:   {firebreak.Agent{DeviceType: "tablet", OS: "Android", Browser: "Chrome"}, schedChrome},
	tWin7Chrome:      {firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Chrome"}, schedFrozen},
	tOldIPhoneSafari: {firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Mobile Safari"}, schedFrozen},
}

// samsungModels are Galaxy phones with the Android version they run.
var samsungModels = []struct {
	model   string
	android int
}{{"SM-S928B", 15}, {"SM-S918B", 14}, {"SM-A546B", 14}, {"SM-A155F", 14}, {"SM-G991B", 13}, {"SM-S931B", 15}}

// version is a browser version.
type version struct{ major, minor int }

var (
	chromeAnchor  = time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC).Unix() // Chrome 145
	firefoxAnchor = time.Date(2026, 2, 24, 0, 0, 0, 0, time.UTC).Unix() // Firefox 148
	samsungAnchor = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).Unix() // Samsung Internet 29
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func releases(sec, anchor, every int64) int {
	return int(floorDiv(sec-anchor, every*86400))
}

func chromeMajor(sec int64) int  { return max(100, 145+releases(sec, chromeAnchor, 28)) }
func firefoxMajor(sec int64) int { return max(100, 148+releases(sec, firefoxAnchor, 28)) }

// safariVersion follows Apple's yearly September release: 17 in 2023, 18
// in 2024, then 26 (named after the year) from 2025, with a minor release
// about every two months.
func safariVersion(sec int64) version {
	t := time.Unix(sec, 0).UTC()
	y, m := t.Year(), int(t.Month())
	months := m - 9
	if m < 9 || (m == 9 && t.Day() < 15) {
		y--
		months += 12
	}
	major := y - 2006
	if y >= 2025 {
		major = y + 1 - 2000
	}
	return version{major: max(15, major), minor: min(6, months/2)}
}

// versionAt returns the version a device with the given update lag runs at
// time sec.
func versionAt(t tmpl, sec int64, lagDays int) version {
	eff := sec - int64(lagDays)*86400
	switch templates[t].sched {
	case schedChrome:
		m := chromeMajor(eff)
		if t == tWinOpera {
			m -= 15
		}
		return version{major: m}
	case schedFirefox:
		return version{major: firefoxMajor(eff)}
	case schedSafari:
		return safariVersion(eff)
	case schedSamsung:
		return version{major: max(20, 29+releases(eff, samsungAnchor, 91))}
	}
	if t == tWin7Chrome {
		return version{major: 109}
	}
	return version{major: 16, minor: 7}
}

// iosToken is the OS version in an iPhone user agent: from iOS 26 on, Safari
// freezes it at 18_6.
func iosToken(v version) string {
	if v.major >= 26 {
		return "18_6"
	}
	return fmt.Sprintf("%d_%d", v.major, v.minor)
}

// formatUA renders the user agent string of a template at a version; variant
// picks the phone model or OS version where the string shows one.
func formatUA(t tmpl, v version, variant int) string {
	const webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
	const apple = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
	m := v.major
	switch t {
	case tWinChrome, tWin7Chrome:
		nt := "10.0; Win64; x64"
		if t == tWin7Chrome {
			nt = "6.1; Win64; x64"
		}
		return fmt.Sprintf("Mozilla/5.0 (Windows NT %s) %s Chrome/%d.0.0.0 Safari/537.36", nt, webkit, m)
	case tWinEdge:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) %s Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.%d.%d", webkit, m, m, 3800+(m-145)*64, 40+m%7*11)
	case tWinFirefox:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", m, m)
	case tWinOpera:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) %s Chrome/%d.0.0.0 Safari/537.36 OPR/%d.0.0.0", webkit, m+15, m)
	case tMacSafari, tIPadSafari:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) %s Version/%d.%d Safari/605.1.15", apple, m, v.minor)
	case tMacChrome:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) %s Chrome/%d.0.0.0 Safari/537.36", webkit, m)
	case tMacFirefox:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:%d.0) Gecko/20100101 Firefox/%d.0", m, m)
	case tLinuxChrome:
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) %s Chrome/%d.0.0.0 Safari/537.36", webkit, m)
	case tLinuxFirefox:
		return fmt.Sprintf("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", m, m)
	case tChromeOS:
		return fmt.Sprintf("Mozilla/5.0 (X11; CrOS x86_64 %d.0.0) %s Chrome/%d.0.0.0 Safari/537.36", 16000+(m-140)*100, webkit, m)
	case tAndroidChrome:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android 10; K) %s Chrome/%d.0.0.0 Mobile Safari/537.36", webkit, m)
	case tAndroidSamsung:
		sm := samsungModels[variant&15%len(samsungModels)]
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) %s SamsungBrowser/%d.0 Chrome/%d.0.0.0 Mobile Safari/537.36", sm.android, sm.model, webkit, m, 130+(m-28)*3)
	case tAndroidFirefox:
		return fmt.Sprintf("Mozilla/5.0 (Android %d; Mobile; rv:%d.0) Gecko/%d.0 Firefox/%d.0", 13+variant&15%3, m, m, m)
	case tAndroidTablet:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android 10; K) %s Chrome/%d.0.0.0 Safari/537.36", webkit, m)
	}
	return formatIOS(t, v, variant)
}

func formatIOS(t tmpl, v version, variant int) string {
	const apple = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
	// Chrome on iOS shows the WebKit user agent of the device: frozen at
	// 18_6 from iOS 26 on, 17_7 on phones that stopped at iOS 17.
	ios := "18_6"
	if variant>>4&1 == 1 {
		ios = "17_7"
	}
	switch t {
	case tIPhoneChrome:
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) %s CriOS/%d.0.%d.%d Mobile/15E148 Safari/604.1", ios, apple, v.major, 7632+(v.major-145)*61, 40+v.major%9*7)
	case tIPadChrome:
		return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %s like Mac OS X) %s CriOS/%d.0.%d.%d Mobile/15E148 Safari/604.1", ios, apple, v.major, 7632+(v.major-145)*61, 40+v.major%9*7)
	}
	return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) %s Version/%d.%d Mobile/15E148 Safari/604.1", iosToken(v), apple, v.major, v.minor)
}

// uaKey identifies one rendered user agent.
type uaKey struct {
	t       tmpl
	variant uint8
	v       version
}

type uaEntry struct {
	s     string
	agent firebreak.Agent
}

// uaTable renders each distinct user agent once and hands out indices, so
// that events share strings instead of formatting them per login.
type uaTable struct {
	index   map[uaKey]int32
	entries []uaEntry
}

func newUATable() *uaTable {
	return &uaTable{index: make(map[uaKey]int32, 512)}
}

// at returns the index of the user agent a device shows at time sec.
func (u *uaTable) at(t tmpl, variant uint8, sec int64, lagDays int) int32 {
	k := uaKey{t: t, variant: variant, v: versionAt(t, sec, lagDays)}
	if i, ok := u.index[k]; ok {
		return i
	}
	a := templates[t].agent
	a.Major = k.v.major
	u.entries = append(u.entries, uaEntry{s: formatUA(t, k.v, int(variant)), agent: a})
	i := int32(len(u.entries) - 1)
	u.index[k] = i
	return i
}
