package sim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"firebreak"
)

const (
	secNs  = int64(time.Second)
	minNs  = int64(time.Minute)
	hourNs = int64(time.Hour)
	dayNs  = 24 * hourNs
)

// Salts keep the random streams of different purposes apart, so that, for
// instance, adding attacks never changes the population's own events.
const (
	saltPerson uint64 = iota + 1
	saltDay
	saltOffice
	saltHousehold
	saltSurge
	saltStuffing
	saltTargeted
	saltLocal
	saltSpraying
	saltBruteforce
	saltChange         // owners' account changes, per person and day
	saltAttackerChange // an attacker's account change, per takeover
)

// rec is a compact event; it becomes a firebreak.Event only when emitted.
type rec struct {
	t       int64 // Unix nanoseconds
	seq     uint32
	ua      int32
	account string
	device  string
	pl      place
	outcome firebreak.Outcome
	method  uint8
	reason  uint8
	typ     uint8 // a login or an account change, indexing typeNames
	cohort  uint8
	attack  bool
	ato     bool
}

// Failure reasons, indexing reasonNames.
const (
	rNone uint8 = iota
	rBadPassword
	rUnknownAccount
	rLocked
	rMFAFailed
)

var reasonNames = [...]string{"", "bad_password", "unknown_account", "locked", "mfa_failed"}

// generator holds one run's state.
type generator struct {
	cfg     Config
	sc      *scenario
	w       *world
	ids     accountIDs
	ua      *uaTable
	people  []person
	offices []office
	vps     []place
	traps   []trap
	attacks []rec
	pcg     rand.PCG
	r       *rand.Rand
	start   int64 // Unix nanoseconds
	end     int64
	day     int
	dayT    int64 // start of the current day
	surge   surgePlan
	out     []rec
	seq     uint32
	aseq    uint32
	// The owners' account changes draw from their own stream, one per
	// person and day (crKey), so that they leave the logins unchanged.
	cpcg  rand.PCG
	cr    *rand.Rand
	crKey uint64
	// noOwnerChanges turns the owners' changes off; tests use it to show
	// that the logins do not depend on them.
	noOwnerChanges bool
}

// Generate simulates cfg and calls emit for every event in non-decreasing
// time order; the same Config gives the same events. The *Event and its
// Label are reused after emit returns. An emit error stops the run and is
// returned wrapped.
func Generate(cfg Config, emit func(*firebreak.Event) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return newGenerator(cfg).generate(emit)
}

func (g *generator) generate(emit func(*firebreak.Event) error) error {
	g.populate()
	g.planSurge()
	g.planAttacks()
	return g.run(emit)
}

func newGenerator(cfg Config) *generator {
	g := &generator{
		cfg:   cfg,
		sc:    scenarioByName(cfg.Scenario),
		w:     newWorld(),
		ids:   newAccountIDs(cfg.Accounts, cfg.Seed),
		ua:    newUATable(),
		start: cfg.Start.UnixNano(),
	}
	g.end = g.start + int64(cfg.Days)*dayNs
	g.r = rand.New(&g.pcg)
	g.cr, g.crKey = rand.New(&g.cpcg), math.MaxUint64
	return g
}

// seedRNG reseeds the shared generator for one purpose and key: each
// person-day draws from its own stream, independent of everyone else.
func (g *generator) seedRNG(salt, a, b uint64) *rand.Rand {
	g.pcg.Seed(hash2(g.cfg.Seed, salt), a<<32^b^salt<<56)
	return g.r
}

// newRNG returns a separate stream, for planning an attack.
func (g *generator) newRNG(salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(hash2(g.cfg.Seed, salt), mix(salt)))
}

func (g *generator) run(emit func(*firebreak.Event) error) error {
	var (
		e    firebreak.Event
		lab  firebreak.Label
		next []rec
		keys []sortKey
		ai   int
		n    int
	)
	for d := range g.cfg.Days {
		g.day, g.dayT = d, g.start+int64(d)*dayNs
		for i := range g.people {
			g.personDay(i)
		}
		dayEnd := min(g.dayT+dayNs, g.end)
		for ai < len(g.attacks) && g.attacks[ai].t < dayEnd {
			g.out = append(g.out, g.attacks[ai])
			ai++
		}
		// Sessions that began today but end after midnight wait for tomorrow.
		cur := g.out[:0]
		for _, r := range g.out {
			if r.t < dayEnd {
				cur = append(cur, r)
			} else if r.t < g.end {
				next = append(next, r)
			}
		}
		// Sorting small keys moves far less memory than sorting records.
		keys = keys[:0]
		for k := range cur {
			keys = append(keys, sortKey{t: cur[k].t, seq: cur[k].seq, i: int32(k)})
		}
		slices.SortFunc(keys, cmpKey)
		for _, k := range keys {
			g.fill(&e, &lab, &cur[k.i])
			if err := emit(&e); err != nil {
				return fmt.Errorf("emit event %d: %w", n, err)
			}
			n++
		}
		g.out, next = append(cur[:0], next...), next[:0]
	}
	return nil
}

// sortKey orders a day's records by time, then by creation.
type sortKey struct {
	t   int64
	seq uint32
	i   int32
}

func cmpKey(a, b sortKey) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func cmpRec(a, b rec) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// fill turns a record into the event handed to emit.
func (g *generator) fill(e *firebreak.Event, lab *firebreak.Label, r *rec) {
	c := &g.w.cities[r.pl.city]
	u := &g.ua.entries[r.ua]
	dlat, dlon := jitter(r.pl.ip)
	*e = firebreak.Event{
		Time:          time.Unix(0, r.t).UTC(),
		Account:       r.account,
		Outcome:       r.outcome,
		IP:            r.pl.ip,
		UserAgent:     u.s,
		Agent:         u.agent,
		DeviceID:      r.device,
		Country:       g.w.countries[c.country].code,
		Region:        c.region,
		City:          c.name,
		ASN:           g.w.nets[r.pl.net].asn,
		Lat:           round4(c.lat + dlat),
		Lon:           round4(c.lon + dlon),
		HasGeo:        true,
		Method:        methodNames[r.method],
		App:           "web",
		FailureReason: reasonNames[r.reason],
		Type:          typeNames[r.typ],
		Label:         lab,
	}
	*lab = firebreak.Label{ATO: r.ato, Attack: r.attack, Cohort: cohortNames[r.cohort]}
}

func round4(x float64) float64 {
	return math.Round(x*1e4) / 1e4
}

// add appends a population event.
func (g *generator) add(r rec) {
	r.seq = g.seq
	g.seq++
	g.out = append(g.out, r)
}

// addAttack appends an attack event; attack sequence numbers sort after the
// population's at equal times.
func (g *generator) addAttack(r rec) {
	r.seq = 1<<31 | g.aseq
	g.aseq++
	r.attack = true
	if r.t >= g.start && r.t < g.end {
		g.attacks = append(g.attacks, r)
	}
}
