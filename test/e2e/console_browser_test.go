package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// The console's browser tests drive Debian's Chromium through chromedp
// against the real binary. Every page a test visits is saved as a
// screenshot under $GATEHOUSE_SCREENSHOTS (or the test's temporary
// directory), so that a person can look at what the test saw.

const chromiumPath = "/usr/bin/chromium"

// uiBrowser is one headless Chromium tab signed in (or not) to a server.
type uiBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	n    int
}

// newUIBrowser starts Chromium with a fresh profile. Without Chromium the
// test is skipped, except in CI, where .ci/run installs it and its absence
// is a failure.
func newUIBrowser(t *testing.T, base string) *uiBrowser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: the console's browser tests need Chromium in CI (apt-get install -y chromium)", chromiumPath)
		}
		testfigures.Skip(t, "%s is not installed: skipping the console's browser tests (apt-get install -y chromium to run them)", chromiumPath)
	}
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	tctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &uiBrowser{t: t, ctx: tctx, base: base, dir: dir}
	// The first action starts the browser; it must run on the tab's own
	// context, not on a shorter one derived from it, or the browser would
	// end with that one.
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

func (b *uiBrowser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	// Each step is bounded, so a missing element fails in seconds rather
	// than eating the whole test's time.
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (on %s)", err, b.location())
	}
}

func (b *uiBrowser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

// css selects by CSS; byID selects an element by its id attribute, which
// may hold dots (perm-groups.edit) that a "#" selector would misread.
func byID(id string) chromedp.CSS { return chromedp.CSS(`[id=` + jsQuote(id) + `]`) }

func jsQuote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// shot saves a full-page screenshot, numbered in visiting order.
func (b *uiBrowser) shot(name string) {
	b.t.Helper()
	b.n++
	b.settle()
	png, err := b.screenshot()
	if err != nil {
		// A capture that starts as the page navigates away (a redirect,
		// a refresh) fails ("Cannot take screenshot with 0 width") or
		// can wait for ever on a busy machine: take it again once the
		// page that is there now has loaded.
		b.t.Logf("screenshot %s: %v; taking it again", name, err)
		time.Sleep(time.Second)
		b.settle()
		png, err = b.screenshot()
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-")))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// settle waits, at most 10 s, until the page has loaded and been laid
// out; the capture then says what is wrong if it still is not.
func (b *uiBrowser) settle() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.readyState === "complete" && document.documentElement.getBoundingClientRect().width > 0`))
		cancel()
		if err == nil && ready {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot captures the whole page, bounded in time.
func (b *uiBrowser) screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

// open loads a console page and saves its screenshot.
func (b *uiBrowser) open(path, shot string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
	b.shot(shot)
}

// submit clicks something that loads a new page (a link or a submit
// button), waits until the new page has loaded, and saves its screenshot.
func (b *uiBrowser) submit(sel chromedp.CSS, shot string) {
	b.t.Helper()
	b.loads(shot, chromedp.Click(sel))
}

// typeEnter types text into a field and presses Enter, as a keyboard
// user would, and waits for the page that loads.
func (b *uiBrowser) typeEnter(sel chromedp.CSS, text, shot string) {
	b.t.Helper()
	b.loads(shot, chromedp.SendKeys(sel, text+"\r"))
}

// viewport changes the window's size, to see the responsive layout.
func (b *uiBrowser) viewport(w, h int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(w, h))
}

// loads runs an action that loads a new page, waits until the new page
// has loaded, and saves its screenshot.
func (b *uiBrowser) loads(shot string, action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.__ghOld = true`))
	b.do(action)
	deadline := time.Now().Add(20 * time.Second)
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.__ghOld && document.readyState === "complete"`))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: no new page loaded (still on %s)", shot, b.location())
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.shot(shot)
}

// click clicks without expecting a page load (a checkbox, a summary).
func (b *uiBrowser) click(sel chromedp.CSS) {
	b.t.Helper()
	b.do(chromedp.Click(sel))
}

// fill replaces the value of a text field (empty too, which
// chromedp.SetValue refuses), as typing would, with input events.
func (b *uiBrowser) fill(sel chromedp.CSS, v string) {
	b.t.Helper()
	ok := b.js(`(() => {
		const e = document.querySelector(` + jsQuote(string(sel)) + `);
		if (!e) return false;
		e.value = ` + jsQuote(v) + `;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`)
	if !ok {
		b.t.Fatalf("no field %s on %s", sel, b.location())
	}
}

// choose selects the option of a select whose visible text is text.
func (b *uiBrowser) choose(sel chromedp.CSS, text string) {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.querySelector(`+jsQuote(string(sel))+`);
		if (!s) return false;
		const o = [...s.options].find(o => o.text.trim() === `+jsQuote(text)+`);
		if (!o) return false;
		s.value = o.value; s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`))
	if err != nil || !ok {
		b.t.Fatalf("cannot choose %q in %s (%v)", text, sel, err)
	}
}

// text returns the visible text of the first match.
func (b *uiBrowser) text(sel chromedp.CSS) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel, chromedp.NodeReady))
	if err != nil {
		b.t.Fatalf("text of %s: %v (on %s)", sel, err, b.location())
	}
	return s
}

// js evaluates a boolean expression in the page.
func (b *uiBrowser) js(expr string) bool {
	b.t.Helper()
	return evaluate[bool](b, expr)
}

// evaluate evaluates an expression of type T in the page.
func evaluate[T any](b *uiBrowser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *uiBrowser) checked(sel chromedp.CSS) bool {
	return b.js(`(document.querySelector(` + jsQuote(string(sel)) + `) || {}).checked === true`)
}

func (b *uiBrowser) disabled(sel chromedp.CSS) bool {
	return b.js(`(document.querySelector(` + jsQuote(string(sel)) + `) || {}).disabled === true`)
}

func (b *uiBrowser) exists(sel chromedp.CSS) bool {
	return b.js(`document.querySelector(` + jsQuote(string(sel)) + `) !== null`)
}

// wantText fails unless the element's text contains every fragment.
func (b *uiBrowser) wantText(sel chromedp.CSS, fragments ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, f := range fragments {
		if !strings.Contains(got, f) {
			b.t.Errorf("%s on %s says %q, want it to contain %q", sel, b.location(), got, f)
		}
	}
}

// wantFlash checks the success message after a form.
func (b *uiBrowser) wantFlash(fragments ...string) {
	b.t.Helper()
	if b.exists("#flash-error") {
		b.t.Fatalf("error on %s: %s", b.location(), b.text("#flash-error"))
	}
	b.wantText("#flash", fragments...)
}

// signIn signs in through the sign-in form.
func (b *uiBrowser) signIn(user, pw string) {
	b.t.Helper()
	b.open("/login", "sign in")
	b.fill("#username", user)
	b.fill("#password", pw)
	b.submit("#signin", "signed in as "+user)
}

// signOut uses the user menu.
func (b *uiBrowser) signOut() {
	b.t.Helper()
	b.click("#usermenu")
	b.submit("#logout", "signed out")
}

// groupID finds a group's id from the groups list.
func (b *uiBrowser) groupID(name string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + "/admin/groups"))
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const a = [...document.querySelectorAll("#groups a")].find(a => a.textContent.trim() === `+jsQuote(name)+`);
		return a ? a.getAttribute("href").split("/")[3] : "";
	})()`))
	if err != nil || v == "" {
		b.t.Fatalf("group %q is not in the list (%v)", name, err)
	}
	return v
}

// value returns a form field's current value.
func (b *uiBrowser) value(sel chromedp.CSS) (string, error) {
	return chromedp.Run(b.ctx, chromedp.Value(sel, chromedp.NodeReady))
}

// userID finds a user's id from the users list, searched by username.
func (b *uiBrowser) userID(name string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + "/admin/users?q=" + url.QueryEscape(name)))
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const a = [...document.querySelectorAll("#users a")].find(a => a.textContent.trim() === `+jsQuote(name)+`);
		return a ? a.getAttribute("href").split("/")[3] : "";
	})()`))
	if err != nil || v == "" {
		b.t.Fatalf("user %q is not in the users list (%v)", name, err)
	}
	return v
}
