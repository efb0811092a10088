package notice

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// finding is one thing scan found, at a line of the scanned text.
type finding struct {
	line         int
	rule, reason string
}

var (
	// reLink matches what a mail client or phone would turn into a link:
	// a URL with a scheme, www.host, or a bare host name with a path.
	reLink = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'\x60()\[\]{}|\\^]+|\bwww\.[^\s<>"'\x60()\[\]{}|\\^]+|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b(?:/[^\s<>"'\x60()\[\]{}|\\^]*)?`)
	// reScriptLink matches links that run code or carry data.
	reScriptLink = regexp.MustCompile(`(?i)\b(?:javascript|vbscript|data):`)
	// reLoginWord matches, in a link, anything to do with signing in or
	// proving who one is: a notice never carries such a link.
	reLoginWord = regexp.MustCompile(`(?i)log-?_?in|logon|sign-?_?in|sign-?_?on|\bsso\b|auth|reset|verif|confirm|passw|activat|magic|\botp\b|token|session|recover`)
	// reLinkText matches the visible text of a link: HTML anchors,
	// Markdown links and Slack's <url|text>.
	reHTMLAnchor  = regexp.MustCompile(`(?is)<a\b[^>]*>(.*?)</a>`)
	reMarkdown    = regexp.MustCompile(`\[([^\]\n]{1,200})\]\(`)
	reSlackLink   = regexp.MustCompile(`<[^|>\s]+\|([^>\n]{1,200})>`)
	reTag         = regexp.MustCompile(`<[^>]*>`)
	reLoginAnchor = regexp.MustCompile(`(?i)log ?in|sign ?in|sign ?on|reset|verif|confirm|password|passwort|anmelden|bestätig|zurücksetzen`)

	credentials = []struct {
		re     *regexp.Regexp
		reason string
	}{
		{regexp.MustCompile(`(?i)\b(?:pass(?:word|wort|wd)?|pwd|token|access[_-]?token|secret|api[_-]?key|apikey|otp|pin|code|session(?:[_-]?id)?|sid|key|auth)\s*=`),
			"looks like a credential parameter"},
		{regexp.MustCompile(`(?i)\b(?:pass(?:word|wort|wd)?|pwd|token|secret|api[ _-]?key)[ \t]*:[ \t]*\S`),
			"looks like a credential given in the text"},
		{regexp.MustCompile(`(?i)\botp\b`), `mentions an OTP: a notice never carries a one-time code`},
		{regexp.MustCompile(`(?i)(?:code|\bpin|\btan|\botp)\b[^0-9\n]{0,20}\b\d{3}[ -]?\d{3}\b|\b\d{3}[ -]?\d{3}\b[^0-9\n]{0,20}\b(?:code|pin)\b`),
			"looks like a one-time code: 6 digits next to 'code'"},
		{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}`), "looks like a JWT"},
	}
	reBlob = regexp.MustCompile(`[A-Za-z0-9+/_-]{21,}={0,2}`)
)

// scan checks text (a template's literal text or a rendered notice) for
// links outside the allow-list, login links and credentials.
func scan(text string, allowed []string) []finding {
	var out []finding
	at := func(off int, rule, reason string) {
		out = append(out, finding{line: 1 + strings.Count(text[:off], "\n"), rule: rule, reason: reason})
	}
	for _, m := range reScriptLink.FindAllStringIndex(text, -1) {
		at(m[0], RuleLink, "script or data link "+quote(text[m[0]:m[1]]))
	}
	rest := []byte(text) // text with the links blanked out, for the blob check
	for _, m := range reLink.FindAllStringIndex(text, -1) {
		link := strings.TrimRight(text[m[0]:m[1]], ".,;:!?")
		for _, f := range checkLink(link, allowed) {
			at(m[0], f.rule, f.reason)
		}
		for i := m[0]; i < m[1]; i++ {
			rest[i] = ' '
		}
	}
	for _, c := range credentials {
		for _, m := range c.re.FindAllStringIndex(text, -1) {
			at(m[0], RuleCredential, c.reason+": "+quote(text[m[0]:m[1]]))
		}
	}
	for _, m := range reBlob.FindAllIndex(rest, -1) {
		if isBlob(string(rest[m[0]:m[1]])) {
			at(m[0], RuleCredential, "looks like an encoded secret (a base64 or hex string over 20 characters): "+quote(text[m[0]:m[1]]))
		}
	}
	return out
}

// checkLink checks one link: its host must be allowed, and nothing in it
// may be about signing in; segments of its path and query must not be blobs.
func checkLink(link string, allowed []string) []finding {
	raw := link
	if !strings.Contains(link, "://") {
		raw = "https://" + link
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return []finding{{rule: RuleLink, reason: "malformed link " + quote(link)}}
	}
	var out []finding
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if !hostAllowed(host, allowed) {
		out = append(out, finding{rule: RuleLink, reason: "link to " + quote(host) + ": host not in the allow-list (" + strings.Join(allowed, ", ") + ")"})
	}
	if w := reLoginWord.FindString(link); w != "" {
		out = append(out, finding{rule: RuleLoginLink, reason: "link " + quote(link) + " is about signing in, resetting or verifying (" + quote(w) + "); notices never carry such links"})
	}
	for _, seg := range strings.FieldsFunc(u.Path+"?"+u.RawQuery+"#"+u.Fragment, func(r rune) bool { return strings.ContainsRune("/?&=#;", r) }) {
		if isBlob(seg) {
			out = append(out, finding{rule: RuleCredential, reason: "link " + quote(link) + " carries what looks like a token: " + quote(seg)})
		}
	}
	return out
}

// hostAllowed matches a host against entries "host" or "*.domain".
func hostAllowed(host string, allowed []string) bool {
	for _, a := range allowed {
		a = strings.ToLower(a)
		if d, ok := strings.CutPrefix(a, "*."); ok {
			if strings.HasSuffix(host, "."+d) {
				return true
			}
		} else if host == a {
			return true
		}
	}
	return false
}

// isBlob reports whether s looks like encoded data: over 20 characters of
// the base64 alphabet with both letters and digits, and not words joined by
// hyphens or underscores.
func isBlob(s string) bool {
	s = strings.TrimRight(s, "=")
	if len(s) <= 20 {
		return false
	}
	letter, digit := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case unicode.IsLetter(r):
			letter = true
		case !strings.ContainsRune("+/_-", r):
			return false
		}
	}
	if !letter || !digit {
		return false
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' }) {
		if len(w) > 12 || !(isAll(w, unicode.IsLetter) || isAll(w, unicode.IsDigit)) {
			return true
		}
	}
	return false // words and numbers: "spring-sale-2026-edition-one"
}

func isAll(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

// linkTexts checks the visible text of links: "Reset your password" over
// an allowed link is still a reset link to the reader.
func linkTexts(text string, htmlText bool) []finding {
	var out []finding
	res := []*regexp.Regexp{reMarkdown, reSlackLink}
	if htmlText {
		res = []*regexp.Regexp{reHTMLAnchor}
	}
	for _, re := range res {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			label := reTag.ReplaceAllString(text[m[2]:m[3]], "")
			if w := reLoginAnchor.FindString(label); w != "" {
				out = append(out, finding{line: 1 + strings.Count(text[:m[0]], "\n"), rule: RuleLoginLink,
					reason: "link text " + quote(strings.TrimSpace(label)) + " invites signing in, resetting or verifying (" + quote(w) + ")"})
			}
		}
	}
	return out
}

func quote(s string) string {
	if len(s) > 80 {
		s = strings.ToValidUTF8(s[:77], "") + "..."
	}
	return `"` + s + `"`
}
