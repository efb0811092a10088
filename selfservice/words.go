package selfservice

import (
	"time"

	"firebreak"
)

// The page's plain words. They say what happened and what to do, never
// the evidence's numbers, which would only help an attacker.

var kindWords = map[firebreak.IncidentKind]string{
	firebreak.KindCredentialStuffing: "an attack with passwords leaked from other sites",
	firebreak.KindPasswordSpraying:   "an attack trying common passwords on many accounts",
	firebreak.KindBruteForce:         "an attack guessing passwords",
	firebreak.KindAccountEnumeration: "an attempt to find out which accounts exist",
	firebreak.KindImpossibleTravel:   "sign-ins from places far apart in a short time",
	firebreak.KindCompromise:         "a break-in to some accounts",
}

var happenedWords = map[firebreak.Tier]string{
	firebreak.TierCompromised: "Someone else signed in to your account.",
	firebreak.TierAtRisk:      "Someone tried to sign in to your account, and there are signs they may know your password.",
	firebreak.TierTargeted:    "Someone tried to sign in to your account. They did not get in.",
}

var whyWords = map[firebreak.Tier]string{
	firebreak.TierCompromised: "A sign-in to your account came from the attack. We acted to put you back in control and to shut the other person out.",
	firebreak.TierAtRisk:      "The attempts on your account looked like someone who may have your password. The extra checks stop them even if they do.",
	firebreak.TierTargeted:    "Your account was on the attacker's list. Nothing suggests they got in.",
}

// stepWords says per tier what the person should do, in order.
var stepWords = map[firebreak.Tier][]string{
	firebreak.TierCompromised: {
		"Choose a new password that you use nowhere else.",
		"Turn on two-step verification.",
		"Check your recent activity and settings for anything you did not do.",
	},
	firebreak.TierAtRisk: {
		"If you use this password on other sites, change it here and there.",
		"Turn on two-step verification.",
	},
	firebreak.TierTargeted: {
		"Nothing is required. A password you use nowhere else and two-step verification keep you safe.",
	},
}

// actionText says what one action did, in words.
func actionText(a firebreak.AccountAction) string {
	switch a.Action {
	case firebreak.ActionForceReset:
		return "You need to choose a new password the next time you sign in."
	case firebreak.ActionRevokeSessions:
		return "We signed you out on all your devices."
	case firebreak.ActionStepUp:
		return "The next time you sign in, we ask for a second check, such as a code from your app."
	case firebreak.ActionLock:
		if !a.Until.IsZero() {
			return "Sign-ins to your account are paused until " + a.Until.UTC().Format("2 January 2006, 15:04 UTC") + "."
		}
		return "Sign-ins to your account are paused for a while."
	}
	return "We took a protective step on your account."
}

func day(t time.Time) string { return t.UTC().Format("2 January 2006") }
