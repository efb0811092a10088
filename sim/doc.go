// Package sim simulates a population of account holders and the attacks
// against them, and produces labelled login events and account changes
// (firebreak.Event) for the demo, tests, benchmarks and quality measurements
// of the risk model.
//
// The population lives in 20 countries with real cities, residential ISPs
// with dynamic addresses (some IPv6), mobile carriers behind carrier-grade
// NAT, offices behind one egress address, iCloud Private Relay and rented
// servers. Each person has one to three devices whose browsers upgrade on
// the vendors' release schedules, logs in at a heavy-tailed rate following
// the local time of day, and sometimes mistypes a password or an account
// name. Scenarios add false-positive traps (travellers, new phones, VPN
// users, forgetful users, a marketing surge) and attacks (credential
// stuffing, targeted takeovers, password spraying, brute force), each event
// labelled with firebreak.Label. Owners change their security settings now
// and then, and some attackers who take over an account by hand change them
// to keep it (Config.AttackerChanges).
//
// Generate is deterministic: the same Config gives the same events. Every
// purpose draws from its own random stream, so people without a trap behave
// identically in every scenario and an attack is the same alone and in
// mixed. docs/simulator.md describes the model and its figures.
package sim
