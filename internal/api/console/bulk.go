package console

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Bulk membership: a list of usernames, pasted or uploaded as a file (one
// a line, optionally "username,YYYY-MM-DD" for an end date), is shown as
// a preview (who is added, who already is a member, who would be refused
// and why, which lines are not understood) and then applied as one change: one AddMembers call, one
// transaction with its audit record, all or nothing.

// maxBulkLines bounds one list, so that a preview stays a page.
const maxBulkLines = 5000

// bulkLine is one line of the list, as understood.
type bulkLine struct {
	N        int
	Username string
	UserID   string
	Expires  string
	Status   string // "add", "member", "unknown", "bad", "refused"
	Why      string
}

func (c *Console) groupBulk(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "members")
	g, err := c.svc.GetGroup(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	// The preview form is multipart (it may carry a file); the form
	// middleware parsed only URL-encoded bodies.
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "file", Message: "the list could not be read"}))
		return
	}
	text := r.FormValue("list")
	if f, _, ferr := r.FormFile("file"); ferr == nil {
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		text += "\n" + string(b)
	}
	lines := c.readBulk(r, s, id, text)
	if err := c.previewBulk(r, s, id, lines); err != nil {
		failed(w, r, back, err)
		return
	}
	if r.FormValue("do") != "apply" {
		e := c.editorOf(r, s, g, "members")
		e.Extra["Lines"], e.Extra["List"] = lines, text
		c.render(w, r, s, http.StatusOK, "group_bulk", g.Name, "groups", e)
		return
	}
	var add []service.MemberInput
	for _, l := range lines {
		if l.Status != "add" {
			continue
		}
		in := service.MemberInput{UserID: l.UserID}
		if l.Expires != "" {
			t, _ := time.Parse("2006-01-02", l.Expires)
			in.ExpiresAt = &t
		}
		add = append(add, in)
	}
	if len(add) == 0 {
		done(w, r, back, "Nothing to add.")
		return
	}
	res, _, err := c.svc.AddMembers(r.Context(), s.Caller(), id, add)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	msg := plural(len(add), "user") + " added from the list."
	if len(res.Projects) > 0 {
		msg += " They are now members of these projects: " + refNames(res.Projects) + "."
	}
	done(w, r, back, msg)
}

// previewBulk asks the service which of the users to add would be
// refused, and why (R22: what the group gives that the caller does not
// hold; R23: a second group in an exclusive project), writing nothing;
// those lines are marked refused and left out of the change.
func (c *Console) previewBulk(r *http.Request, s *session, groupID string, lines []bulkLine) error {
	var in []service.MemberInput
	var at []int
	for i, l := range lines {
		if l.Status == "add" {
			in = append(in, service.MemberInput{UserID: l.UserID})
			at = append(at, i)
		}
	}
	preview, err := c.svc.PreviewMembers(r.Context(), s.Caller(), groupID, in)
	if err != nil {
		return err
	}
	for k, p := range preview {
		if p.Refusal != nil {
			lines[at[k]].Status, lines[at[k]].Why = "refused", message(p.Refusal)
		}
	}
	return nil
}

// readBulk understands the list, line by line: who the user is, whether
// they already are a member, and the end date.
func (c *Console) readBulk(r *http.Request, s *session, groupID, text string) []bulkLine {
	members := map[string]bool{}
	var out []bulkLine
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() && len(out) < maxBulkLines {
		n++
		raw := strings.TrimSpace(sc.Text())
		if raw == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		name, exp, _ := strings.Cut(raw, ",")
		l := bulkLine{N: n, Username: strings.TrimSpace(name), Expires: strings.TrimSpace(exp), Status: "add"}
		if l.Expires != "" {
			if _, err := time.Parse("2006-01-02", l.Expires); err != nil {
				l.Status, l.Why = "bad", "the end date is not YYYY-MM-DD"
				out = append(out, l)
				continue
			}
		}
		uid, err := c.svc.UserIDByUsername(r.Context(), s.Caller(), l.Username)
		switch {
		case err != nil:
			l.Status, l.Why = "unknown", "no such user"
		case members[uid]:
			l.Status, l.Why = "member", "listed twice"
		default:
			l.UserID = uid
			members[uid] = true
			if c.isMember(r, s, uid, groupID) {
				l.Status, l.Why = "member", "already a member"
			}
		}
		out = append(out, l)
	}
	return out
}

// isMember tells whether the user is (still) in the group.
func (c *Console) isMember(r *http.Request, s *session, userID, groupID string) bool {
	gs, err := c.svc.UserGroups(r.Context(), s.Caller(), userID)
	if err != nil {
		return false
	}
	now := c.now()
	for _, g := range gs {
		if g.Group.ID == groupID && g.Membership.ActiveAt(now) {
			return true
		}
	}
	return false
}

// bulkCounts sums the preview up for its heading.
func bulkCounts(lines []bulkLine) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		out[l.Status]++
	}
	return out
}
