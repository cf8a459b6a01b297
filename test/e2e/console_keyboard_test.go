package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// A reference story done with the keyboard alone (Tab, Shift-Tab, Enter,
// typing; no click): an administrator finds a user, adds them to a group
// until a date, sees the membership listed with its end, and removes it
// again. At every stop the focused element must show its focus ring.

// tabToSel presses Tab until the focused element matches sel, checking
// that each element on the way shows its focus.
func (b *uiBrowser) tabToSel(sel string) {
	b.t.Helper()
	for i := 0; i < 200; i++ {
		if b.js(`document.activeElement && document.activeElement.matches(` + jsQuote(sel) + `)`) {
			b.focusVisible()
			return
		}
		b.do(chromedp.KeyEvent("\t"))
	}
	b.t.Fatalf("%s cannot be reached with Tab on %s", sel, b.location())
}

// focusVisible fails unless the focused element draws a visible outline:
// it matches :focus-visible and its outline is neither none nor thin.
func (b *uiBrowser) focusVisible() {
	b.t.Helper()
	ok := b.js(`(() => {
		const e = document.activeElement, s = e && getComputedStyle(e);
		return !!e && e !== document.body && e.matches(":focus-visible") && s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
	})()`)
	if !ok {
		b.t.Errorf("the focus is not visible on %s at %s", b.str(`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "nothing"`), b.location())
	}
}

// shiftTabTo presses Shift-Tab, at most n times, until the element with
// the id has the focus, visibly.
func (b *uiBrowser) shiftTabTo(id string, n int) {
	b.t.Helper()
	for i := 0; i < n && !b.js(`document.activeElement && document.activeElement.id === `+jsQuote(id)); i++ {
		b.do(chromedp.KeyEvent("\t", chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
	b.focusOn(id)
}

// focusOn fails unless the element with the id has the focus, visibly.
func (b *uiBrowser) focusOn(id string) {
	b.t.Helper()
	if !b.js(`document.activeElement && document.activeElement.id === ` + jsQuote(id)) {
		b.t.Fatalf("the focus is on %s, not #%s, at %s", b.str(`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "nothing"`), id, b.location())
	}
	b.focusVisible()
}

// keyboardAddToGroup is the story; username must not be in Help desk.
func keyboardAddToGroup(t *testing.T, b *uiBrowser, username string) {
	b.open("/admin/users", "keyboard: users")
	b.tabToSel("#q")
	b.loads("keyboard: "+username+" found", chromedp.KeyEvent(username+"\r"))
	b.tabToSel(`#users a[href^="/admin/users/"]`)
	if got := b.str(`document.activeElement.textContent.trim()`); got != username {
		t.Fatalf("the first user link reached is %q, want %q", got, username)
	}
	b.loads("keyboard: "+username+"'s page", chromedp.KeyEvent("\r"))
	b.tabToSel("#add-group-name")
	b.do(chromedp.KeyEvent("Help desk"))
	b.do(chromedp.KeyEvent("\t"))
	b.focusOn("add-group-expires") // the next stop, in reading order
	// A date field takes its digits in the locale's order (en-US here:
	// month, day, year); the value is checked below.
	b.do(chromedp.KeyEvent("06302099"))
	if v := b.str(`document.activeElement.value`); v != "2099-06-30" {
		t.Fatalf("the date typed reads %q, want 2099-06-30", v)
	}
	// Shift-Tab goes back to the name (through the date's month and day:
	// Chromium tabs through a date's parts), Tab on to the button.
	b.shiftTabTo("add-group-name", 4)
	b.tabToSel("#add-group-button")
	b.shot("keyboard: focus on Add")
	b.loads("keyboard: added until 2099-06-30", chromedp.KeyEvent("\r"))
	b.wantFlash("Added to “Help desk”.")
	b.wantText("#user-groups", "Help desk", "until 2099-06-30")

	// And out again, by keyboard: Space on the row's Remove button.
	b.tabToSel(`button[aria-label="Remove from Help desk"]`)
	b.shot("keyboard: focus on Remove")
	b.loads("keyboard: removed", chromedp.KeyEvent(" "))
	b.wantFlash("Removed")
	if b.exists(`button[aria-label="Remove from Help desk"]`) {
		t.Error("Help desk is still listed after its removal")
	}
}
