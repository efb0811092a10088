package sim

// The simulated world. Operator names and AS numbers are those of real
// networks so that output reads naturally; every address pool is made up
// (see world.go) and says nothing about the real operator.

// cityDef is a city with real coordinates; off is its standard UTC offset in
// minutes (daylight saving is ignored).
type cityDef struct {
	name, region string
	lat, lon     float64
	weight       float64
	off          int
}

// netDef is an operator: a residential ISP, a mobile carrier or a hosting
// provider. v6 marks residential ISPs that hand out IPv6 prefixes.
type netDef struct {
	name string
	asn  uint32
	v6   bool
}

// countryDef is one country of the population.
type countryDef struct {
	code   string
	weight float64 // share of the population
	// mobileOnly is the share of people without home broadband: every
	// login goes through a mobile carrier's carrier-grade NAT.
	mobileOnly float64
	ios        float64 // share of phones that are iPhones
	travel     float64 // popularity as a travel destination
	proxy      float64 // share of residential-proxy exits
	cities     []cityDef
	isps       []netDef
	carriers   []netDef
}

var countryDefs = []countryDef{
	{"US", 22, 0.04, 0.57, 12, 25, []cityDef{
		{"New York", "New York", 40.71, -74.01, 4, -300}, {"Los Angeles", "California", 34.05, -118.24, 3, -480},
		{"Chicago", "Illinois", 41.88, -87.63, 2, -360}, {"Houston", "Texas", 29.76, -95.37, 2, -360}},
		[]netDef{{"Comcast", 7922, true}, {"Charter Spectrum", 20115, true}, {"AT&T Internet", 7018, true}, {"Verizon Fios", 701, false}, {"Cox", 22773, false}, {"Frontier", 5650, false}},
		[]netDef{{"T-Mobile US", 21928, false}, {"Verizon Wireless", 22394, false}, {"AT&T Mobility", 20057, false}}},
	{"GB", 8, 0.03, 0.50, 8, 4, []cityDef{
		{"London", "England", 51.51, -0.13, 5, 0}, {"Manchester", "England", 53.48, -2.24, 2, 0},
		{"Birmingham", "England", 52.49, -1.89, 2, 0}, {"Glasgow", "Scotland", 55.86, -4.25, 1, 0}},
		[]netDef{{"BT", 2856, true}, {"Virgin Media", 5089, false}, {"Sky Broadband", 5607, true}, {"TalkTalk", 13285, false}},
		[]netDef{{"EE", 12576, false}, {"Vodafone UK", 25135, false}, {"Three UK", 206067, false}}},
	{"DE", 8, 0.03, 0.35, 6, 4, []cityDef{
		{"Berlin", "Berlin", 52.52, 13.40, 4, 60}, {"Hamburg", "Hamburg", 53.55, 9.99, 2, 60},
		{"Munich", "Bavaria", 48.14, 11.58, 2, 60}, {"Frankfurt am Main", "Hesse", 50.11, 8.68, 1, 60}},
		[]netDef{{"Deutsche Telekom", 3320, true}, {"Vodafone Germany", 3209, true}, {"1&1 Versatel", 8881, false}, {"NetCologne", 8422, false}},
		[]netDef{{"Telekom Mobil", 3320, false}, {"Vodafone Mobil", 3209, false}, {"O2 Germany", 6805, false}}},
	{"FR", 6, 0.04, 0.35, 12, 3, []cityDef{
		{"Paris", "Île-de-France", 48.86, 2.35, 5, 60}, {"Lyon", "Auvergne-Rhône-Alpes", 45.76, 4.84, 2, 60},
		{"Marseille", "Provence-Alpes-Côte d'Azur", 43.30, 5.37, 2, 60}, {"Toulouse", "Occitanie", 43.60, 1.44, 1, 60}},
		[]netDef{{"Orange", 3215, true}, {"Free", 12322, true}, {"SFR", 15557, false}, {"Bouygues Telecom", 5410, false}},
		[]netDef{{"Orange Mobile", 3215, false}, {"Free Mobile", 51207, false}, {"SFR Mobile", 15557, false}}},
	{"BR", 7, 0.20, 0.18, 3, 10, []cityDef{
		{"São Paulo", "São Paulo", -23.55, -46.63, 5, -180}, {"Rio de Janeiro", "Rio de Janeiro", -22.91, -43.17, 3, -180},
		{"Belo Horizonte", "Minas Gerais", -19.92, -43.94, 1, -180}, {"Brasília", "Federal District", -15.79, -47.88, 1, -180}},
		[]netDef{{"Claro NET", 28573, false}, {"Vivo Fibra", 27699, false}, {"Oi", 7738, false}, {"Brisanet", 28126, false}},
		[]netDef{{"TIM Brasil", 26615, false}, {"Vivo Móvel", 26599, false}, {"Claro Móvel", 28573, false}}},
	{"IN", 9, 0.35, 0.05, 2, 10, []cityDef{
		{"Mumbai", "Maharashtra", 19.08, 72.88, 3, 330}, {"Delhi", "Delhi", 28.61, 77.21, 3, 330},
		{"Bengaluru", "Karnataka", 12.97, 77.59, 2, 330}, {"Chennai", "Tamil Nadu", 13.08, 80.27, 1, 330}},
		[]netDef{{"Reliance Jio Fiber", 55836, true}, {"Bharti Airtel", 24560, false}, {"BSNL", 9829, false}, {"ACT Fibernet", 24309, false}, {"Hathway", 17488, false}},
		[]netDef{{"Jio Mobile", 55836, false}, {"Airtel Mobile", 45609, false}, {"Vodafone Idea", 38266, false}}},
	{"NO", 3, 0.02, 0.60, 2, 1, []cityDef{
		{"Oslo", "Oslo", 59.91, 10.75, 3, 60}, {"Bergen", "Vestland", 60.39, 5.32, 1, 60}, {"Trondheim", "Trøndelag", 63.43, 10.40, 1, 60}},
		[]netDef{{"Telenor Norge", 2119, true}, {"Telia Norge", 12929, false}, {"Altibox", 29695, true}},
		[]netDef{{"Telenor Mobil", 2119, false}, {"Telia Mobil", 12929, false}}},
	{"SE", 3, 0.02, 0.55, 2, 1, []cityDef{
		{"Stockholm", "Stockholm", 59.33, 18.07, 3, 60}, {"Gothenburg", "Västra Götaland", 57.71, 11.97, 1, 60}, {"Malmö", "Skåne", 55.60, 13.00, 1, 60}},
		[]netDef{{"Telia Sverige", 3301, true}, {"Tele2", 1257, false}, {"Telenor Sverige", 39651, false}, {"Bahnhof", 8473, true}},
		[]netDef{{"Telia Mobil", 3301, false}, {"Tele2 Mobil", 1257, false}, {"Tre", 44034, false}}},
	{"ES", 4, 0.05, 0.25, 12, 2, []cityDef{
		{"Madrid", "Community of Madrid", 40.42, -3.70, 3, 60}, {"Barcelona", "Catalonia", 41.39, 2.17, 3, 60},
		{"Valencia", "Valencian Community", 39.47, -0.38, 1, 60}, {"Seville", "Andalusia", 37.39, -5.98, 1, 60}},
		[]netDef{{"Movistar", 3352, false}, {"Orange Espagne", 12479, false}, {"Vodafone España", 12430, false}, {"Digi Spain", 57269, false}},
		[]netDef{{"Movistar Móvil", 3352, false}, {"Vodafone Móvil", 12430, false}, {"Orange Móvil", 12479, false}}},
	{"IT", 4, 0.05, 0.30, 10, 2, []cityDef{
		{"Rome", "Lazio", 41.90, 12.50, 3, 60}, {"Milan", "Lombardy", 45.46, 9.19, 3, 60},
		{"Naples", "Campania", 40.85, 14.27, 2, 60}, {"Turin", "Piedmont", 45.07, 7.69, 1, 60}},
		[]netDef{{"TIM", 3269, false}, {"Fastweb", 12874, true}, {"Vodafone Italia", 30722, false}, {"WINDTRE", 1267, false}},
		[]netDef{{"TIM Mobile", 3269, false}, {"Iliad Italia", 29447, false}, {"WINDTRE Mobile", 1267, false}}},
	{"NL", 3, 0.02, 0.45, 4, 2, []cityDef{
		{"Amsterdam", "North Holland", 52.37, 4.90, 3, 60}, {"Rotterdam", "South Holland", 51.92, 4.48, 2, 60}, {"Utrecht", "Utrecht", 52.09, 5.12, 1, 60}},
		[]netDef{{"KPN", 1136, true}, {"Ziggo", 33915, false}, {"Odido", 50266, false}, {"Delta Fiber", 15435, false}},
		[]netDef{{"KPN Mobiel", 1136, false}, {"Vodafone NL", 33915, false}, {"Odido Mobiel", 31615, false}}},
	{"PL", 3, 0.06, 0.20, 3, 3, []cityDef{
		{"Warsaw", "Masovia", 52.23, 21.01, 3, 60}, {"Kraków", "Lesser Poland", 50.06, 19.94, 2, 60},
		{"Wrocław", "Lower Silesia", 51.11, 17.04, 1, 60}, {"Gdańsk", "Pomerania", 54.35, 18.65, 1, 60}},
		[]netDef{{"Orange Polska", 5617, false}, {"Netia", 12741, false}, {"UPC Polska", 6830, false}, {"Vectra", 29314, false}},
		[]netDef{{"Play", 39603, false}, {"Plus", 8374, false}, {"T-Mobile Polska", 12912, false}}},
	{"JP", 4, 0.05, 0.65, 5, 2, []cityDef{
		{"Tokyo", "Tokyo", 35.68, 139.69, 5, 540}, {"Osaka", "Osaka", 34.69, 135.50, 3, 540},
		{"Nagoya", "Aichi", 35.18, 136.91, 1, 540}, {"Fukuoka", "Fukuoka", 33.59, 130.40, 1, 540}},
		[]netDef{{"NTT OCN", 4713, true}, {"KDDI", 2516, true}, {"SoftBank", 17676, false}, {"So-net", 2527, false}, {"BIGLOBE", 2518, false}},
		[]netDef{{"NTT Docomo", 9605, false}, {"au", 2516, false}, {"Rakuten Mobile", 138384, false}}},
	{"CA", 3, 0.03, 0.55, 3, 2, []cityDef{
		{"Toronto", "Ontario", 43.65, -79.38, 3, -300}, {"Montreal", "Quebec", 45.50, -73.57, 2, -300},
		{"Vancouver", "British Columbia", 49.28, -123.12, 2, -480}, {"Calgary", "Alberta", 51.05, -114.07, 1, -420}},
		[]netDef{{"Rogers", 812, false}, {"Bell Canada", 577, false}, {"Shaw", 6327, false}, {"Vidéotron", 5769, false}, {"Telus", 852, true}},
		[]netDef{{"Rogers Wireless", 812, false}, {"Bell Mobility", 36522, false}, {"Telus Mobility", 852, false}}},
	{"AU", 2, 0.04, 0.55, 3, 1, []cityDef{
		{"Sydney", "New South Wales", -33.87, 151.21, 3, 600}, {"Melbourne", "Victoria", -37.81, 144.96, 3, 600},
		{"Brisbane", "Queensland", -27.47, 153.03, 1, 600}, {"Perth", "Western Australia", -31.95, 115.86, 1, 480}},
		[]netDef{{"Telstra", 1221, true}, {"Optus", 4804, false}, {"TPG", 7545, false}, {"Aussie Broadband", 4764, true}},
		[]netDef{{"Telstra Mobile", 1221, false}, {"Optus Mobile", 4804, false}, {"Vodafone Australia", 133612, false}}},
	{"MX", 3, 0.20, 0.20, 6, 3, []cityDef{
		{"Mexico City", "Mexico City", 19.43, -99.13, 4, -360}, {"Guadalajara", "Jalisco", 20.66, -103.35, 2, -360}, {"Monterrey", "Nuevo León", 25.69, -100.32, 2, -360}},
		[]netDef{{"Telmex", 8151, false}, {"Totalplay", 22884, false}, {"Megacable", 13999, false}, {"izzi", 11888, false}},
		[]netDef{{"Telcel", 28403, false}, {"AT&T México", 17072, false}}},
	{"TR", 3, 0.15, 0.20, 6, 3, []cityDef{
		{"Istanbul", "Istanbul", 41.01, 28.98, 4, 180}, {"Ankara", "Ankara", 39.93, 32.86, 2, 180}, {"Izmir", "Izmir", 38.42, 27.14, 1, 180}},
		[]netDef{{"Türk Telekom", 9121, false}, {"Turkcell Superonline", 34984, false}, {"TurkNet", 12735, false}, {"Vodafone Net", 15897, false}},
		[]netDef{{"Turkcell", 16135, false}, {"Vodafone Turkey", 15924, false}, {"Türk Telekom Mobile", 20978, false}}},
	{"ID", 3, 0.35, 0.10, 3, 6, []cityDef{
		{"Jakarta", "Jakarta", -6.21, 106.85, 4, 420}, {"Surabaya", "East Java", -7.26, 112.75, 2, 420},
		{"Bandung", "West Java", -6.92, 107.62, 1, 420}, {"Medan", "North Sumatra", 3.60, 98.67, 1, 420}},
		[]netDef{{"Telkom Indonesia", 7713, false}, {"Biznet", 17451, false}, {"First Media", 23700, false}, {"MyRepublic", 63859, false}},
		[]netDef{{"Telkomsel", 23693, false}, {"Indosat", 4761, false}, {"XL Axiata", 24203, false}}},
	{"NG", 2, 0.60, 0.10, 1, 4, []cityDef{
		{"Lagos", "Lagos", 6.52, 3.38, 4, 60}, {"Abuja", "Federal Capital Territory", 9.08, 7.40, 2, 60},
		{"Port Harcourt", "Rivers", 4.82, 7.05, 1, 60}, {"Kano", "Kano", 12.00, 8.52, 1, 60}},
		[]netDef{{"Spectranet", 37340, false}, {"ipNX", 37282, false}, {"FibreOne", 328493, false}},
		[]netDef{{"MTN Nigeria", 29465, false}, {"Airtel Nigeria", 36873, false}, {"Glo", 37148, false}}},
	{"ZA", 2, 0.30, 0.20, 2, 2, []cityDef{
		{"Johannesburg", "Gauteng", -26.20, 28.05, 3, 120}, {"Cape Town", "Western Cape", -33.92, 18.42, 2, 120},
		{"Durban", "KwaZulu-Natal", -29.86, 31.03, 1, 120}, {"Pretoria", "Gauteng", -25.75, 28.19, 1, 120}},
		[]netDef{{"Telkom SA", 37457, false}, {"Vumatel", 328745, false}, {"Afrihost", 37611, false}, {"Cool Ideas", 328035, false}},
		[]netDef{{"Vodacom", 36994, false}, {"MTN South Africa", 16637, false}, {"Cell C", 37168, false}}},
}

// hostingDef is a datacenter operator with exits in several countries.
// vpn marks operators commercial VPN services rent exits from; relay marks
// the egress of Apple's iCloud Private Relay, present in every country; the
// others are where attackers, and a few technical users, rent servers.
type hostingDef struct {
	netDef
	vpn, relay bool
	countries  []string // nil: every country
}

var hostingDefs = []hostingDef{
	{netDef{"Akamai Private Relay", 36183, false}, false, true, nil},
	{netDef{"Cloudflare", 13335, false}, false, true, nil},
	{netDef{"M247", 9009, false}, true, false, []string{"US", "GB", "DE", "NL", "SE", "FR", "ES", "IT", "JP", "CA", "AU", "PL"}},
	{netDef{"Datacamp", 60068, false}, true, false, []string{"US", "GB", "DE", "NL", "FR", "JP", "CA", "SE", "BR", "MX"}},
	{netDef{"Leaseweb", 60781, false}, true, false, []string{"NL", "DE", "US", "GB", "JP", "AU"}},
	{netDef{"Clouvider", 62240, false}, true, false, []string{"GB", "US", "NL", "DE"}},
	{netDef{"DigitalOcean", 14061, false}, false, false, []string{"US", "NL", "DE", "GB", "IN", "CA", "AU"}},
	{netDef{"OVH", 16276, false}, false, false, []string{"FR", "CA", "DE", "GB", "PL", "AU"}},
	{netDef{"Hetzner", 24940, false}, false, false, []string{"DE", "US"}},
	{netDef{"Vultr", 20473, false}, false, false, []string{"US", "JP", "NL", "GB", "DE", "AU", "IN", "MX"}},
	{netDef{"Akamai Linode", 63949, false}, false, false, []string{"US", "GB", "DE", "JP", "IN", "AU", "BR"}},
}

// diurnal is the relative login activity by local hour of the day.
var diurnal = [24]float64{
	1.2, 0.7, 0.45, 0.35, 0.35, 0.6, 1.5, 3.0, 4.2, 4.6, 4.6, 4.6,
	5.0, 4.8, 4.6, 4.5, 4.6, 4.8, 5.0, 5.4, 5.6, 5.2, 3.8, 2.3,
}
