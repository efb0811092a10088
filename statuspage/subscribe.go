package statuspage

import (
	"errors"
	"net/http"
	"net/url"

	"firebreak"
)

// maxForm bounds a subscription form's body.
const maxForm = 4096

// handleSubscribe stores a subscription and hands its token to OnSubscribe.
// Bad input gets an error naming the field; otherwise the answer is the same
// whether the target was new, waiting for confirmation or subscribed already,
// so that the page cannot be used to learn who subscribes.
func (h *Handler) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	if err := h.parseForm(w, r); err != nil {
		h.writeError(w, r, err)
		return
	}
	sub := firebreak.Subscription{Kind: firebreak.SubscriptionKind(r.PostForm.Get("kind")), Target: r.PostForm.Get("target")}
	err := h.cfg.Status.Subscribe(r.Context(), &sub)
	switch firebreak.ErrorCode(err) {
	case "":
		if h.cfg.OnSubscribe != nil {
			h.cfg.OnSubscribe(r.Context(), sub)
		}
	case firebreak.ECONFLICT: // subscribed already: answer as for a new one
	default:
		h.writeError(w, r, err)
		return
	}
	h.writeMessage(w, r, "Check your inbox",
		"If this address can receive our updates, a confirmation link is on its way to it. "+
			"Nothing is sent until the link is followed.", "", "", "")
}

// parseForm checks that a POST comes from this site's own pages (when the
// browser says where it comes from) and reads its form, at most maxForm bytes.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) error {
	if origin := r.Header.Get("Origin"); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Scheme != h.base.Scheme || u.Host != h.base.Host {
			return firebreak.Errorf(firebreak.EFORBIDDEN, "Forms must be sent from the status page itself.")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return firebreak.Errorf(firebreak.ETOOLARGE, "The form is larger than %d bytes.", maxForm)
		}
		return firebreak.Errorf(firebreak.EINVALID, "The form could not be read.")
	}
	return nil
}

// handleTokenForm shows a button that posts the link's token back. Following
// a link only shows the page; mail scanners that fetch every link therefore
// neither confirm nor end a subscription.
func (h *Handler) handleTokenForm(action string) http.HandlerFunc {
	heading, button := "Confirm your subscription", "Confirm"
	if action == "unsubscribe" {
		heading, button = "Unsubscribe", "Unsubscribe"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h.writeMessage(w, r, heading, "", "/"+action, button, r.URL.Query().Get("token"))
	}
}

// handleConfirm confirms the subscription holding the posted token.
func (h *Handler) handleConfirm(w http.ResponseWriter, r *http.Request) {
	if err := h.parseForm(w, r); err != nil {
		h.writeError(w, r, err)
		return
	}
	_, err := h.cfg.Status.Confirm(r.Context(), r.PostForm.Get("token"))
	switch firebreak.ErrorCode(err) {
	case "":
		h.writeMessage(w, r, "Subscribed", "You will hear of every update on this page. "+
			"Each message holds a link to unsubscribe.", "", "", "")
	case firebreak.ENOTFOUND, firebreak.EINVALID:
		h.writeError(w, r, firebreak.Errorf(firebreak.ENOTFOUND,
			"This confirmation link is not valid. It may have been replaced by a newer one; subscribe again to get a new link."))
	default:
		h.writeError(w, r, err)
	}
}

// handleUnsubscribe ends the subscription holding the posted token. The
// answer is the same for an unknown token: the subscription is gone either
// way, and the page says nothing about which tokens exist.
func (h *Handler) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := h.parseForm(w, r); err != nil {
		h.writeError(w, r, err)
		return
	}
	err := h.cfg.Status.Unsubscribe(r.Context(), r.PostForm.Get("token"))
	if code := firebreak.ErrorCode(err); code != "" && code != firebreak.ENOTFOUND && code != firebreak.EINVALID {
		h.writeError(w, r, err)
		return
	}
	h.writeMessage(w, r, "Unsubscribed", "You will receive no more updates from this page.", "", "", "")
}

// writeMessage renders message.html, never cached: its token must not be
// kept by a shared cache.
func (h *Handler) writeMessage(w http.ResponseWriter, r *http.Request, heading, text, action, button, token string) {
	data := message{Frame: h.frame(heading, h.cfg.Now()), Text: text, Action: action, Button: button, Token: token}
	pg, err := h.render("message.html", data)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pg.write(w, r, http.StatusOK, "no-store")
}
