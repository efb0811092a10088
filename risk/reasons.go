package risk

import (
	"fmt"
	"math"
	"net/netip"

	"firebreak"
)

// Reasons turns a result's evidence into plain sentences with the numbers
// behind them, strongest first. It reads only e and r (not the model), so it
// may run on another goroutine. It allocates, so callers use it only for the
// logins a person or a file will read.
func Reasons(e *firebreak.Event, r *Result) []string {
	out := make([]string, 0, r.N)
	for i := 0; i < r.N; i++ {
		out = append(out, reason(e, &r.Evidence[i]))
	}
	return out
}

func reason(e *firebreak.Event, ev *Evidence) string {
	x := fmt.Sprintf("(risk ×%s)", factor(ev.LogLR))
	switch ev.Kind {
	case KindNew:
		return fmt.Sprintf("%s never seen in %s of this account; it changes %s in %s of logins%s %s",
			valueName(e, ev.level), plural(ev.Trials, "earlier login"), levelNames[ev.level], percent(ev.Rate), moveClause(ev.Move), x)
	case KindRare:
		return fmt.Sprintf("%s seen in only %s of this account's logins, but common among all logins %s",
			valueName(e, ev.level), percent(ev.Rate), x)
	case KindFailures:
		return fmt.Sprintf("%s on this account from unfamiliar places in the last hour; only %s of successful logins follow that many %s",
			plural(ev.Count, "failed login"), percent(ev.Rate), x)
	case KindTravel:
		return fmt.Sprintf("%.0f km from the previous login %d min earlier (%.0f km/h); %s of legitimate logins move that fast %s",
			ev.Km, ev.Minutes, ev.Kmh, percent(ev.Rate), x)
	case KindSource:
		return fmt.Sprintf("%s failed on other accounts in %d of %d recent attempts %s",
			sourceName(e.IP, ev.level), ev.Count, ev.Trials, x)
	case KindReputation:
		return fmt.Sprintf("%s %s", ev.text, x)
	}
	return ""
}

// plural writes "1 earlier login" or "212 earlier logins".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// moveClause compares the value with where accounts that change usually
// go, when that weighs at least a factor of two either way.
func moveClause(move float64) string {
	switch {
	case move >= 2:
		return fmt.Sprintf(", and accounts that change go there %.0f× less often than logins come from there", move)
	case move > 0 && move <= 0.5:
		return fmt.Sprintf(", though accounts that change go there %.0f× more often than logins come from there", 1/move)
	}
	return ""
}

func valueName(e *firebreak.Event, l level) string {
	switch l {
	case lvCountry:
		return "country " + orUnknown(e.Country)
	case lvASN:
		if e.ASN == 0 {
			return "network (unknown AS)"
		}
		return fmt.Sprintf("network AS%d", e.ASN)
	case lvPrefix:
		return "IP range " + prefixOf(e.IP).String()
	case lvIP:
		return "IP " + e.IP.String()
	case lvDeviceType:
		return "device type " + orUnknown(e.Agent.DeviceType)
	case lvOS:
		return "operating system " + orUnknown(e.Agent.OS)
	case lvBrowser:
		return "browser " + orUnknown(e.Agent.Browser)
	case lvMajor:
		return fmt.Sprintf("browser version %s %d", orUnknown(e.Agent.Browser), e.Agent.Major)
	case lvDevice:
		if e.DeviceID == "" {
			return "a login without a device id"
		}
		return "device " + e.DeviceID
	}
	return "value"
}

func sourceName(ip netip.Addr, l level) string {
	if l == lvPrefix {
		return "source range " + prefixOf(ip).String()
	}
	return "source " + ip.String()
}

func prefixOf(ip netip.Addr) netip.Prefix {
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func percent(r float64) string {
	switch {
	case r >= 0.1:
		return fmt.Sprintf("%.0f%%", r*100)
	case r >= 0.01:
		return fmt.Sprintf("%.1f%%", r*100)
	}
	return fmt.Sprintf("%.2g%%", r*100)
}

func factor(logLR float64) string {
	f := expm(logLR)
	if f >= 100 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

func expm(x float64) float64 { return math.Exp(x) }
