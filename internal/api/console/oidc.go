package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// OpenID Connect sign-in (docs/authentication.md): the login page's
// button sends the browser to the provider with a state bound to this
// browser by a cookie, a nonce and a PKCE challenge; the callback checks
// them, verifies the ID token, asks the service for the user (link, JIT,
// group mapping) and opens a session like a password sign-in.

// Cookies of the flow: the browser binding of pending sign-ins, and the
// provider a session came from (for RP-initiated logout).
const (
	bindingCookie  = "gatehouse_oidc_binding"
	providerCookie = "gatehouse_oidc_provider"
)

func (c *Console) oidcRoutes() {
	m := c.mux
	m.HandleFunc("GET /login/oidc/{provider}", c.oidcStart)
	m.HandleFunc("GET /login/oidc/{provider}/callback", c.oidcCallback)
}

// providerButtons are the login page's buttons, in configuration order.
func (c *Console) providerButtons() []map[string]string {
	if c.oidc == nil {
		return nil
	}
	var out []map[string]string
	for _, p := range c.oidc.Providers {
		out = append(out, map[string]string{"ID": p.Config.ID, "Name": p.Config.DisplayName})
	}
	return out
}

// oidcProvider is the provider a flow's URL names, once the query is
// checked (UTF-8) and the client address is not locked by failed
// sign-ins; false when it answered instead.
func (c *Console) oidcProvider(w http.ResponseWriter, r *http.Request) (*oidcauth.Provider, bool) {
	if !c.readForm(w, r, 0) {
		return nil, false
	}
	p := c.oidc.Get(r.PathValue("provider"))
	if p == nil {
		c.fail(w, r, http.StatusNotFound, "There is no such sign-in provider.")
		return nil, false
	}
	if err := c.authn.CheckAddress(httpauth.RemoteIP(r)); err != nil {
		c.fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", int(authn.RetryAfterOf(err).Seconds()+0.5)))
		return nil, false
	}
	return p, true
}

// oidcStart sends the browser to the provider.
func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request) {
	p, ok := c.oidcProvider(w, r)
	if !ok {
		return
	}
	binding := ""
	if ck, err := r.Cookie(bindingCookie); err == nil && len(ck.Value) == 43 {
		binding = ck.Value
	} else {
		binding = oidcauth.Random()
	}
	state, pend := c.oidcStates.Start(p.Config.ID, r.URL.Query().Get("next"), binding)
	to, err := p.AuthURL(r.Context(), c.now, state, pend.Nonce, pend.Verifier)
	if err != nil {
		c.log.Warn("console: OpenID Connect provider unreachable", "provider", p.Config.ID, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, fmt.Sprintf("%s cannot be reached right now, so you cannot sign in with it. Try again in a few minutes; an administrator can still sign in with a password.", p.Config.DisplayName))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: binding, Path: "/login/oidc/", MaxAge: int(oidcauth.StateTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil || c.secureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// oidcCallback is where the provider sends the browser back.
func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	p, ok := c.oidcProvider(w, r)
	if !ok {
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		c.oidcRefused(w, r, p, "", "", "the provider answered "+e+": "+r.URL.Query().Get("error_description"), http.StatusUnauthorized)
		return
	}
	binding := ""
	if ck, err := r.Cookie(bindingCookie); err == nil {
		binding = ck.Value
	}
	pend, ok := c.oidcStates.Take(r.URL.Query().Get("state"), binding)
	if !ok || pend.Provider != p.Config.ID {
		c.oidcRefused(w, r, p, "", "", "the sign-in's state is unknown, used already, expired or another browser's", http.StatusBadRequest)
		return
	}
	who, _, err := p.Finish(r.Context(), c.now, r.URL.Query().Get("code"), pend.Verifier, pend.Nonce)
	if errors.Is(err, oidcauth.ErrUnavailable) {
		c.log.Warn("console: OpenID Connect provider unreachable", "provider", p.Config.ID, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, fmt.Sprintf("%s cannot be reached right now, so the sign-in could not be finished. Try again in a few minutes.", p.Config.DisplayName))
		return
	}
	if err != nil {
		c.oidcRefused(w, r, p, "", "", message(err), http.StatusUnauthorized)
		return
	}
	c.oidcSignIn(w, r, p, who, pend.Next)
}

// oidcSignIn turns a verified identity into a session.
func (c *Console) oidcSignIn(w http.ResponseWriter, r *http.Request, p *oidcauth.Provider, who oidcauth.Identity, next string) {
	ip := httpauth.RemoteIP(r)
	pc := p.Config
	res, err := c.svc.SignInOIDC(r.Context(), service.OIDCSignIn{Provider: pc.ID, Issuer: who.Issuer, Subject: who.Subject,
		Username: who.Username, Email: who.Email, DisplayName: who.DisplayName, JIT: pc.JIT, ProvisionAs: pc.ProvisionAs,
		MapGroups: pc.GroupMapping.Enabled(), Groups: who.Mapped, AllowAdministrators: pc.GroupMapping.AllowAdministrators, RemoteAddr: ip})
	switch {
	case err == nil:
	case domain.Is(err, domain.KindUnauthenticated), domain.Is(err, domain.KindInvalid), domain.Is(err, domain.KindForbidden), domain.Is(err, domain.KindExists):
		c.oidcRefused(w, r, p, who.Username, res.User.ID, message(err), http.StatusForbidden)
		return
	default:
		c.log.Error("console: OpenID Connect sign-in", "provider", pc.ID, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "The sign-in could not be finished: "+message(err))
		return
	}
	ns, err := c.authn.OpenOIDCSession(r.Context(), res.User, authn.OIDCSignIn{Provider: pc.ID, Issuer: who.Issuer, Subject: who.Subject,
		Changes: changesOf(res)}, ip, r.UserAgent())
	if err != nil {
		if domain.KindOf(err) == domain.KindUnauthenticated {
			c.fail(w, r, http.StatusForbidden, "You cannot sign in: "+message(err))
			return
		}
		c.fail(w, r, http.StatusServiceUnavailable, "The sign-in could not be finished: "+message(err))
		return
	}
	c.auth.SetSessionCookie(w, r, ns)
	http.SetCookie(w, &http.Cookie{Name: providerCookie, Value: pc.ID, Path: "/", Expires: ns.Session.ExpiresAt.UTC(),
		HttpOnly: true, Secure: r.TLS != nil || c.secureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: bindingCookie, Value: "", Path: "/login/oidc/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil || c.secureCookies, SameSite: http.SameSiteLaxMode})
	if len(res.Refused) > 0 {
		setFlash(w, "error", "Signed in with "+pc.DisplayName+", but some group memberships from it were not applied: "+strings.Join(res.Refused, "; "))
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// changesOf words what a sign-in changed, for its audit record.
func changesOf(res service.OIDCResult) string {
	var parts []string
	if res.Created {
		parts = append(parts, "user created just in time")
	}
	if res.Linked {
		parts = append(parts, "user linked to the subject")
	}
	if len(res.Added) > 0 {
		parts = append(parts, "joined "+strings.Join(res.Added, ", "))
	}
	if len(res.Removed) > 0 {
		parts = append(parts, "left "+strings.Join(res.Removed, ", "))
	}
	if len(res.Refused) > 0 {
		parts = append(parts, "not applied: "+strings.Join(res.Refused, "; "))
	}
	return strings.Join(parts, "; ")
}

// oidcRefused audits a refused sign-in (counted against the address)
// and shows why, on a page of its own.
func (c *Console) oidcRefused(w http.ResponseWriter, r *http.Request, p *oidcauth.Provider, username, userID, reason string, status int) {
	if err := c.authn.RefuseOIDC(r.Context(), p.Config.ID, username, userID, reason, httpauth.RemoteIP(r)); err != nil && domain.KindOf(err) != domain.KindUnauthenticated {
		c.log.Error("console: auditing a refused OpenID Connect sign-in", "provider", p.Config.ID, "err", err)
	}
	c.fail(w, r, status, fmt.Sprintf("The sign-in with %s was refused: %s. Go back to the sign-in page to try again.", p.Config.DisplayName, sentence(reason)))
}

// oidcLogoutURL is where sign-out sends a browser whose session came from
// a provider that advertises RP-initiated logout ("" otherwise), with the
// provider's name, and it forgets the provider cookie.
func (c *Console) oidcLogoutURL(w http.ResponseWriter, r *http.Request) (to, name string) {
	ck, err := r.Cookie(providerCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: providerCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil || c.secureCookies, SameSite: http.SameSiteLaxMode})
	p := c.oidc.Get(ck.Value)
	if p == nil {
		return "", ""
	}
	return p.LogoutURL(r.Context(), c.now, "", c.oidc.Config.BaseURL+"/login"), p.Config.DisplayName
}

// toProviderLogout answers sign-out with a page that moves on to the
// provider's logout. Not a redirect: the console's content security
// policy (form-action 'self') stops a form's redirect to another site, a
// new navigation is not a form's.
func (c *Console) toProviderLogout(w http.ResponseWriter, to, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = providerLogoutPage.Execute(w, map[string]string{"To": to, "Name": name})
}

var providerLogoutPage = template.Must(template.New("logout").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={{.To}}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signed out · Gatehouse</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/console.css"></head><body><main class="narrow">
<h1>Signed out</h1><p class="msg" role="status">You are signed out of Gatehouse. Signing you out of {{.Name}} too…</p>
<p><a id="provider-logout" href="{{.To}}">Continue to {{.Name}}</a></p></main></body></html>`))
