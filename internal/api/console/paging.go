package console

import (
	"net/url"
	"strconv"
)

// pager draws "Previous" and "Next" links over the store's cursor
// pagination. Cursors only go forward, so the links carry the cursors of
// the pages before the one shown ("before", oldest first; "" is the first
// page), and "Previous" pops the last of them. The other parameters of
// the page (search, sort, order) are kept in both links.
type pager struct {
	Prev, Next string // links, "" when there is no such page
	Page       int    // 1 for the first page
	Cursor     string // the cursor of the page shown
	Before     []string
}

func pagerOf(base string, q url.Values, keep []string, next string) pager {
	p := pager{Cursor: q.Get("cursor"), Before: q["before"]}
	p.Page = len(p.Before) + 1
	if p.Cursor == "" {
		p.Page, p.Before = 1, nil
	}
	link := func(cursor string, before []string) string {
		v := url.Values{}
		for _, k := range keep {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if cursor != "" {
			v.Set("cursor", cursor)
			v["before"] = before
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	if next != "" {
		p.Next = link(next, append(append([]string(nil), p.Before...), p.Cursor))
	}
	if p.Cursor != "" {
		if n := len(p.Before); n > 0 {
			p.Prev = link(p.Before[n-1], p.Before[:n-1])
		} else {
			p.Prev = link("", nil)
		}
	}
	return p
}

// Label is "Page 2" for screen readers and the eye alike.
func (p pager) Label() string { return "Page " + strconv.Itoa(p.Page) }
