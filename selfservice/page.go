package selfservice

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"firebreak"
)

// MaxForm bounds an appeal's request body, in bytes.
const MaxForm = 8 << 10

// view is what the page template shows.
type view struct {
	Prefix    string
	Path      string
	Valid     bool
	What      string // the incident in words
	Notice    string
	Affected  bool
	Happened  string
	Why       string
	Actions   []actionView
	Steps     []string
	CanAppeal bool

	claims Claims
}

type actionView struct {
	Text   string
	Undone bool
}

// dummy are the claims looked up for a token that does not verify, so
// that such a token costs the same lookups as a valid one.
var dummy = Claims{IncidentID: math.MaxInt64, Account: "\x00no-account"}

// lookup verifies token and reads what the page shows. Invalid, expired
// and unknown tokens all give the invalid view after the same reads.
func (h *Handler) lookup(ctx context.Context, token string) *view {
	c, err := h.tokens.Verify(token)
	valid := err == nil
	if !valid {
		c = dummy
	}
	f := h.cache.get(ctx, c.IncidentID, c.Account, h.read)
	if !valid || f.err != nil {
		return &view{}
	}
	inc, acct, acts := f.inc, f.acct, f.acts
	v := &view{Valid: true, Path: h.pathOf(token), claims: c, What: whatWords(inc)}
	if acct == nil {
		return v
	}
	v.Affected, v.Happened, v.Why, v.Steps = true, happenedWords[acct.Tier], whyWords[acct.Tier], stepWords[acct.Tier]
	for _, a := range acts {
		v.Actions = append(v.Actions, actionView{Text: actionText(a), Undone: a.Undone})
		v.CanAppeal = v.CanAppeal || !a.Undone
	}
	v.CanAppeal = v.CanAppeal && h.appeals != nil
	return v
}

// read reads the facts of one account in one incident. An unknown
// incident (or the dummy's) is an error that is not logged.
func (h *Handler) read(ctx context.Context, incidentID int64, account string) facts {
	var f facts
	var errs [3]error
	f.inc, errs[0] = h.incidents.Find(ctx, incidentID)
	f.acct, errs[1] = h.facts.AffectedAccount(ctx, incidentID, account)
	f.acts, errs[2] = h.facts.AccountActions(ctx, incidentID, account)
	for _, err := range errs {
		if err != nil && f.err == nil {
			f.err = err
		}
		if err != nil && firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
			h.cfg.Logger.Error("self-service lookup failed", "err", err)
		}
	}
	return f
}

func whatWords(inc *firebreak.Incident) string {
	w, ok := kindWords[inc.Kind]
	if !ok {
		w = "a security incident"
	}
	return w + " that began on " + day(inc.FirstSeen)
}

// handleAppeal records "This was me". The token in the path is the
// credential, so the form needs no CSRF token; a bad form gets one
// uniform message.
func (h *Handler) handleAppeal(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	token := r.PathValue("token")
	if ok, retry := h.byToken.Allow(tokenKey(token), time.Now()); !ok {
		tooMany(w, retry)
		return
	}
	comment, formErr := readComment(w, r)
	v := h.lookup(r.Context(), token)
	if !v.Valid {
		h.write(w, r, start, http.StatusOK, v)
		return
	}
	switch {
	case formErr != nil:
		v.Notice = "We could not read that. Please write at most 1,000 characters and try again."
		h.write(w, r, start, http.StatusBadRequest, v)
		return
	case !v.CanAppeal:
		v.Notice = "There is nothing on your account to appeal."
		h.write(w, r, start, http.StatusOK, v)
		return
	}
	a, err := h.appeals.Appeal(r.Context(), v.claims, comment)
	// The appeal may change what the page shows (a lift runs in the
	// background): read afresh, now and on the next visit.
	h.cache.forget(v.claims.IncidentID, v.claims.Account)
	defer h.cache.forget(v.claims.IncidentID, v.claims.Account)
	if code := firebreak.ErrorCode(err); code == firebreak.ENOTFOUND || code == firebreak.ECONFLICT {
		v.Notice = "There is nothing on your account to appeal."
		h.write(w, r, start, http.StatusOK, v)
		return
	} else if err != nil {
		h.cfg.Logger.Error("appeal failed", "err", err)
		v.Notice = "We could not record that just now. Please try again later."
		h.write(w, r, start, http.StatusServiceUnavailable, v)
		return
	}
	v.Notice = appealWords(a)
	if fresh := h.lookup(r.Context(), token); fresh.Valid {
		fresh.Notice, fresh.CanAppeal = v.Notice, false
		v = fresh
	}
	h.write(w, r, start, http.StatusOK, v)
}

// readComment reads the form's comment: at most MaxForm bytes of body,
// MaxAppealComment characters of valid UTF-8.
func readComment(w http.ResponseWriter, r *http.Request) (string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	c := strings.ReplaceAll(r.PostForm.Get("comment"), "\r\n", "\n")
	if !utf8.ValidString(c) || utf8.RuneCountInString(c) > firebreak.MaxAppealComment || len(r.PostForm["comment"]) > 1 ||
		strings.ContainsFunc(c, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "", &firebreak.FieldError{Field: "comment", Reason: "at most 1000 characters of text"}
	}
	return strings.TrimSpace(c), nil
}

func appealWords(a *firebreak.Appeal) string {
	switch a.State {
	case firebreak.AppealLifted:
		return "Thank you. We have lifted the extra sign-in checks on your account. It can take a minute."
	case firebreak.AppealRejected:
		return "Thank you. We looked at this and the protective steps stay in place for now. Please follow the steps below."
	}
	return "Thank you. Someone from our team will look at this, and we will tell you in the app."
}
