package detect

import "math"

// lbeta is ln B(a, b).
func lbeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}

// logBF is the log Bayes factor of "this key fails at an unknown rate"
// (uniform prior) against "this key is like the population" (its rate drawn
// from Beta(κ·f, κ·(1−f)) around the population rate f), for k failures out
// of n attempts. κ says how closely legitimate keys of this kind follow the
// population. Only evidence against the key counts: a key failing less than
// the population scores 0.
func logBF(k, n, f, kappa float64) float64 {
	if k <= 0 || n <= 0 || k > n || k/n <= f {
		return 0
	}
	f = math.Min(math.Max(f, 1e-4), 0.5)
	a, b := kappa*f, kappa*(1-f)
	attack := lbeta(k+1, n-k+1)
	legit := lbeta(k+a, n-k+b) - lbeta(a, b)
	return math.Max(0, attack-legit)
}

// minEvidence returns the smallest number of attempts, all failures, whose
// log Bayes factor reaches threshold at population rate f: below it no key
// can be significant, whatever its ratio. It bounds the work of the tests
// and is quoted in findings.
func minEvidence(threshold, f, kappa float64) int {
	for n := 1; n < 1<<20; n++ {
		if logBF(float64(n), float64(n), f, kappa) >= threshold {
			return n
		}
	}
	return 1 << 20
}

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0

// haversine returns the great-circle distance in km.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
