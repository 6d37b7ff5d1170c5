package pipeline

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// PitchStatus is where a guest's pitch is in the producer's inbox.
type PitchStatus string

// The statuses of a pitch.
const (
	PitchNew      PitchStatus = "new"
	PitchAccepted PitchStatus = "accepted"
	PitchDeclined PitchStatus = "declined"
	PitchArchived PitchStatus = "archived"
)

// PitchStatuses are the statuses, in the order the inbox shows them.
var PitchStatuses = []PitchStatus{PitchNew, PitchAccepted, PitchDeclined, PitchArchived}

// Pitch is a would-be guest's story, sent through the show's /pitch/ form
// and kept at private/pitches/<id>.json. Everything in it is as the guest
// typed it: plain text, never HTML.
type Pitch struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Email    string      `json:"email"`
	Role     string      `json:"role,omitempty"`
	Company  string      `json:"company,omitempty"`
	Topics   []string    `json:"topics,omitempty"`
	Story    string      `json:"story"` // what they run in production, and what went wrong
	Links    []string    `json:"links,omitempty"`
	Consent  bool        `json:"consent"` // to be contacted
	Status   PitchStatus `json:"status"`
	Received time.Time   `json:"received"`
	Updated  time.Time   `json:"updated"`
}

// The lengths a pitch's fields may have.
const (
	pitchShort = 200
	pitchStory = 8000
	pitchLinks = 5
)

// Validate says, in words for the guest, what is missing or wrong.
func (p *Pitch) Validate() []string {
	var problems []string
	short := func(label, v string, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			problems = append(problems, label+" is missing.")
		case utf8.RuneCountInString(v) > pitchShort:
			problems = append(problems, fmt.Sprintf("%s is longer than %d characters.", label, pitchShort))
		}
	}
	short("Your name", p.Name, true)
	short("Your email", p.Email, true)
	short("Your role", p.Role, false)
	short("Your company", p.Company, false)
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
			problems = append(problems, "Your email does not look like an address such as ana@example.com.")
		}
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(p.Story)); {
	case n == 0:
		problems = append(problems, "Tell us what you run in production, and what went wrong.")
	case n > pitchStory:
		problems = append(problems, fmt.Sprintf("Your story is longer than %d characters; a summary is enough, we will ask for more.", pitchStory))
	}
	if len(p.Links) > pitchLinks {
		problems = append(problems, fmt.Sprintf("Give at most %d links.", pitchLinks))
	}
	for _, l := range p.Links {
		if u, err := url.Parse(l); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("The link %q is not an http(s) address.", l))
		}
	}
	if !p.Consent {
		problems = append(problems, "Tick the box that lets us contact you; without it we cannot answer.")
	}
	return problems
}

// ValidPitchStatus reports whether s is one of PitchStatuses.
func ValidPitchStatus(s string) bool {
	for _, v := range PitchStatuses {
		if string(v) == s {
			return true
		}
	}
	return false
}
