package sim

import (
	"math"
	"math/rand/v2"

	"firebreak"
)

// spraying tries a few common passwords against 8% of the accounts, one or
// two attempts per account, over about twelve hours from 20 to 50 servers in
// one or two hosting networks, with one to three browser user agents. About
// 0.2% of the targeted accounts fall.
func (g *generator) spraying(r *rand.Rand) {
	targets := max(1, int(math.Round(0.08*float64(g.cfg.Accounts))))
	fake := int(math.Round(0.03 * float64(targets)))
	hits := max(1, int(math.Round(0.002*float64(targets))))
	dur := 10*hourNs + r.Int64N(4*hourNs)
	start := g.attackStart(r, dur)
	ips := g.sprayServers(r)
	uas := make([]int32, 1+r.IntN(3))
	for k := range uas {
		uas[k] = g.commonUA(r, start)
	}
	for k, v := range sampleDistinct(r, g.cfg.Accounts, targets) {
		acct := g.people[v].account
		tries := 1 + r.IntN(2)
		t := start + r.Int64N(dur)
		for j := range tries {
			pl, ua := ips[r.IntN(len(ips))], uas[r.IntN(len(uas))]
			if k < hits && j == tries-1 {
				verified := false
				g.attackerSuccess(r, v, t, pl, ua, "", cSpraying, false, false, &verified)
				break
			}
			g.attempt(t, acct, pl, ua, "", firebreak.OutcomeFailure, rBadPassword, cSpraying, false)
			t += r.Int64N(start + dur - t + 1)
		}
	}
	for range fake {
		t := start + r.Int64N(dur)
		g.attempt(t, g.ids.unknown(r), ips[r.IntN(len(ips))], uas[r.IntN(len(uas))], "", firebreak.OutcomeFailure, rUnknownAccount, cSpraying, false)
	}
}

// sprayServers rents 20 to 50 servers in one or two hosting networks.
func (g *generator) sprayServers(r *rand.Rand) []place {
	nets := []int{g.w.hostNets[r.IntN(len(g.w.hostNets))]}
	if r.Float64() < 0.5 {
		nets = append(nets, g.w.hostNets[r.IntN(len(g.w.hostNets))])
	}
	ips := make([]place, 20+r.IntN(31))
	for k := range ips {
		ni := nets[k%len(nets)]
		ips[k] = g.hostingPlace(ni, g.foreignExit(r, ni, -1), r.IntN(2000))
	}
	return ips
}

// bruteforce hammers three to five accounts, each with hundreds of
// passwords in one to two hours from one to three addresses; the first of
// them eventually falls and is used once more soon after.
func (g *generator) bruteforce(r *rand.Rand) {
	n := 3 + r.IntN(3)
	for k, v := range sampleDistinct(r, g.cfg.Accounts, n) {
		acct := g.people[v].account
		dur := hourNs + r.Int64N(hourNs)
		start := g.attackStart(r, dur+hourNs)
		srcs := make([]place, 1+r.IntN(3))
		uas := make([]int32, len(srcs))
		for j := range srcs {
			if r.Float64() < 0.6 {
				ni := g.w.hostNets[r.IntN(len(g.w.hostNets))]
				srcs[j] = g.hostingPlace(ni, g.foreignExit(r, ni, -1), r.IntN(2000))
			} else {
				srcs[j] = g.proxyPlace(r)
			}
			uas[j] = g.commonUA(r, start)
		}
		tries := 200 + r.IntN(401)
		step := dur / int64(tries)
		t := start
		for j := range tries {
			s := j * len(srcs) / tries // one source after the other
			if k == 0 && j == tries-1 {
				verified := false
				g.attackerSuccess(r, v, t, srcs[s], uas[s], "", cBruteforce, false, false, &verified)
				t2 := t + 10*minNs + r.Int64N(50*minNs)
				g.attackerSuccess(r, v, t2, srcs[s], uas[s], "", cBruteforce, false, false, &verified)
				break
			}
			g.attempt(t, acct, srcs[s], uas[s], "", firebreak.OutcomeFailure, rBadPassword, cBruteforce, false)
			t += step/2 + r.Int64N(step)
		}
	}
}
