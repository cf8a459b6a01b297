package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func (a *app) loginCmd() *cobra.Command {
	var username, tokenName string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a server and store an API token for the other commands",
		Long: "Sign in with your username and password (asked on the terminal, without echo;\n" +
			"read from stdin when it is not a terminal). The command makes an API token named\n" +
			"after this computer, signs the short-lived session out, and stores the token in\n" +
			"~/.config/gatehouse/credentials (mode 0600) with the server's URL.\n\n" +
			"With --token (or GATEHOUSE_TOKEN), it checks that token and stores it instead.",
		Args: nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			server, _, _, err := a.target()
			if err != nil {
				return err
			}
			// A stored token is not a reason to skip the password: only
			// one given on purpose is.
			token := firstOf(a.token, a.env.Getenv("GATEHOUSE_TOKEN"))
			c, err := newClient(server, token, a.env.HTTPClient)
			if err != nil {
				return usage(cmd, "%v", err)
			}
			ctx := cmd.Context()
			cred := credentials{Server: serverURL(c)}
			if token != "" {
				me, err := c.Me(ctx)
				if err != nil {
					return explain(c, err)
				}
				cred.Token, cred.UserID, cred.Username = token, me.ID, me.Username
			} else {
				if username == "" {
					if username, err = a.readLine(cmd, "Username: "); err != nil {
						return err
					}
				}
				pw, err := a.readPassword(cmd, "Password: ")
				if err != nil {
					return err
				}
				s, err := c.Login(ctx, username, pw)
				if err != nil {
					return explain(c, err)
				}
				nt, err := c.CreateToken(ctx, api.TokenRequest{Name: tokenName})
				// The session only served to make the token: end it
				// whatever happened.
				lerr := c.Logout(ctx)
				if err != nil {
					return explain(c, err)
				}
				if lerr != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "gatehouse: warning: signing the session out failed: %v\n", lerr)
				}
				cred.Token, cred.TokenID, cred.UserID, cred.Username = nt.Secret, nt.Token.ID, s.UserID, s.Username
			}
			path, err := a.saveCredentials(cred)
			if err != nil {
				return err
			}
			out := struct {
				Server      string `json:"server"`
				UserID      string `json:"user_id"`
				Username    string `json:"username"`
				TokenID     string `json:"token_id,omitempty"`
				Credentials string `json:"credentials"`
			}{cred.Server, cred.UserID, cred.Username, cred.TokenID, path}
			return a.done(cmd, out, "Signed in to %s as %s; token stored in %s", cred.Server, cred.Username, path)
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "", "your username (asked when absent)")
	cmd.Flags().StringVar(&tokenName, "token-name", defaultTokenName(), "the name of the API token made for this computer")
	return cmd
}

func defaultTokenName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "this computer"
	}
	return "gatehouse CLI on " + host
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the stored API token and forget it",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cred, err := a.loadCredentials()
			if err != nil {
				// A damaged file is forgotten all the same.
				return a.removeCredentials()
			}
			if cred == nil {
				return a.done(cmd, map[string]bool{"signed_out": false}, "Not signed in: no stored credentials")
			}
			var revokeErr error
			if cred.TokenID != "" {
				c, err := newClient(cred.Server, cred.Token, a.env.HTTPClient)
				if err == nil {
					revokeErr = c.RevokeToken(cmd.Context(), cred.TokenID)
					if gatehouse.IsUnauthenticated(revokeErr) || gatehouse.IsNotFound(revokeErr) {
						revokeErr = nil // already dead
					}
					revokeErr = explain(c, revokeErr)
				}
			}
			if err := a.removeCredentials(); err != nil {
				return err
			}
			if revokeErr != nil {
				return fmt.Errorf("the credentials are forgotten, but revoking the token on the server failed: %w", revokeErr)
			}
			return a.done(cmd, map[string]any{"signed_out": true, "server": cred.Server, "username": cred.Username},
				"Signed out of %s", cred.Server)
		},
	}
}

func (a *app) tokensCmd() *cobra.Command {
	cmd := group("tokens", "List, create and revoke API tokens")
	var user string
	list := &cobra.Command{
		Use:   "list",
		Short: "List your API tokens (or a user's, with --user)",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			uid := ""
			if user != "" {
				u, err := resolveUser(cmd.Context(), c, user)
				if err != nil {
					return explain(c, err)
				}
				uid = u.ID
			}
			ts, err := c.ListTokens(cmd.Context(), uid)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, ts, func(w io.Writer) error {
				t := newTable(w, "ID", "NAME", "LIMIT", "CREATED", "EXPIRES", "LAST USED", "STATUS")
				now := time.Now()
				for _, k := range ts {
					t.row(k.ID, k.Name, strings.Join(k.Permissions, ","), day(k.CreatedAt), dayp(k.ExpiresAt), dayp(k.LastUsedAt), tokenStatus(k, now))
				}
				return t.flush()
			})
		},
	}
	list.Flags().StringVar(&user, "user", "", "whose tokens (id or username; needs rights on users)")

	var perms, expires, owner string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API token and print it (it is shown once)",
		Args:  nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.TokenRequest{Name: args[0], Permissions: splitList(perms)}
			if expires != "" {
				t, err := parseExpiry(expires, time.Now())
				if err != nil {
					return usage(cmd, "--expires: %v", err)
				}
				req.ExpiresAt = &t
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if owner != "" {
				u, err := resolveUser(cmd.Context(), c, owner)
				if err != nil {
					return explain(c, err)
				}
				req.UserID = u.ID
			}
			nt, err := c.CreateToken(cmd.Context(), req)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, nt, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "%s\n\nToken %s (%s) created. Copy it now: it is not shown again.\n", nt.Secret, nt.Token.ID, nt.Token.Name)
				return err
			})
		},
	}
	create.Flags().StringVar(&perms, "permissions", "", "limit the token to these system permissions, comma-separated (e.g. scim.provision)")
	create.Flags().StringVar(&expires, "expires", "", "when it stops working: RFC 3339, a date, or a duration such as 90d (default: never)")
	create.Flags().StringVar(&owner, "user", "", "make it for this user (id or username; needs rights on users)")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token",
		Args:  nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"revoked": args[0]}, "Token %s revoked", args[0])
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/tokens"), declare(create, "POST /api/v1/tokens"), declare(revoke, "DELETE /api/v1/tokens/{id}"))
	return cmd
}

func tokenStatus(t api.APIToken, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}
