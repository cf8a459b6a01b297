package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SettingBootstrapped marks a bootstrapped database; its value is the
// initial administrator's username.
const SettingBootstrapped = "bootstrapped"

// BootstrapOptions configure the first start.
type BootstrapOptions struct {
	AdminUsername string // default "admin"
	// AdminPassword, when empty, is generated and logged once.
	AdminPassword string
	// PasswordSource says, for the log, where a given AdminPassword came
	// from ("GATEHOUSE_ADMIN_PASSWORD", "the demo's documented password");
	// the password itself is never logged. Empty means "given to the
	// server".
	PasswordSource string
	// PasswordParams defaults to password.Default.
	PasswordParams *password.Params
	// PasswordPolicy is what AdminPassword must meet, as the password of
	// a member of Administrators.
	PasswordPolicy password.Policy
	Log            *slog.Logger
}

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	Created           bool   // false when the database was already bootstrapped
	AdminUsername     string // set when Created
	GeneratedPassword string // set when Created and the password was generated
	Revision          int64
}

// Bootstrap prepares a new database in one transaction: the built-in groups
// Administrators, Everyone and Public (R2–R5), the built-in roles (docs/model.md
// §4), the folder type "folder" with the root context, and an initial
// administrator who is a member of Administrators. On a database that is
// already bootstrapped it changes nothing. When several replicas start at
// once on one PostgreSQL, one bootstraps and the others find it done.
func Bootstrap(ctx context.Context, st store.Store, opts BootstrapOptions) (BootstrapResult, error) {
	const op = "service.Bootstrap"
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if opts.AdminUsername == "" {
		opts.AdminUsername = "admin"
	}
	params := password.Default
	if opts.PasswordParams != nil {
		params = *opts.PasswordParams
	}
	done, err := bootstrapped(ctx, st)
	if err != nil || done {
		return BootstrapResult{}, err
	}

	admin := domain.User{ID: domain.NewID(), Username: opts.AdminUsername, DisplayName: "Administrator",
		Status: domain.UserActive, Source: domain.SourceLocal, ShowPersonalInfo: true}
	if err := valid(&admin, nil, identifier.User); err != nil {
		return BootstrapResult{}, domain.E(op, fmt.Errorf("GATEHOUSE_ADMIN_USER: %w", err))
	}
	generated := ""
	pw := opts.AdminPassword
	if pw == "" {
		pw = password.Generate(max(24, opts.PasswordPolicy.Min(true)))
		generated = pw
	} else if err := opts.PasswordPolicy.Check(pw, admin.Username, true); err != nil {
		return BootstrapResult{}, domain.E(op, domain.KindInvalid, fmt.Errorf("GATEHOUSE_ADMIN_PASSWORD %w", err))
	}
	hash, err := password.Hash(pw, params)
	if err != nil {
		return BootstrapResult{}, domain.E(op, domain.KindInvalid, fmt.Errorf("GATEHOUSE_ADMIN_PASSWORD: %w", err))
	}

	change, err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		// Checked again inside the transaction: another replica may have
		// finished between the first look and now.
		if _, err := tx.GetSetting(ctx, SettingBootstrapped); err == nil {
			return errAlreadyBootstrapped
		} else if !domain.Is(err, domain.KindNotFound) {
			return err
		}
		for _, r := range domain.BuiltinRoles() {
			if err := tx.CreateRole(ctx, &r); err != nil {
				return err
			}
		}
		for _, g := range domain.BuiltinGroups() {
			if err := tx.CreateGroup(ctx, &g); err != nil {
				return err
			}
		}
		ft := domain.BuiltinFolderType()
		if err := tx.CreateFolderType(ctx, &ft); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &admin); err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, admin.ID, hash); err != nil {
			return err
		}
		m := domain.Membership{GroupID: domain.GroupAdministratorsID, UserID: admin.ID}
		if err := tx.PutMembership(ctx, &m); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, &domain.Setting{Key: SettingBootstrapped, Value: admin.Username}); err != nil {
			return err
		}
		after, _ := json.Marshal(map[string]any{"admin": admin.Username, "groups": len(domain.BuiltinGroups()),
			"roles": len(domain.BuiltinRoles()), "folder_types": 1})
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "system", Action: "system.bootstrap",
			TargetKind: "system", Outcome: domain.OutcomeSuccess, After: after,
			Detail: "built-in groups, roles and folder type created; initial administrator " + admin.Username})
	})
	if err == errAlreadyBootstrapped || (err != nil && domain.Is(err, domain.KindExists)) {
		// Another replica won the race; make sure it really finished.
		if done, err2 := bootstrapped(ctx, st); err2 == nil && done {
			return BootstrapResult{}, nil
		}
	}
	if err != nil {
		return BootstrapResult{}, domain.E(op, err)
	}
	res := BootstrapResult{Created: true, AdminUsername: admin.Username, GeneratedPassword: generated, Revision: change.Revision}
	if generated != "" {
		log.Warn("initial administrator created; this password is shown only now, so store it and change it after signing in",
			"username", admin.Username, "password", generated)
	} else {
		// The password was given (GATEHOUSE_ADMIN_PASSWORD, or the demo's): never logged.
		source := opts.PasswordSource
		if source == "" {
			source = "the password given to the server"
		}
		log.Info("initial administrator created with "+source, "username", admin.Username)
	}
	return res, nil
}

var errAlreadyBootstrapped = domain.E("service.Bootstrap", domain.KindExists, fmt.Errorf("already bootstrapped"))

func bootstrapped(ctx context.Context, st store.Reader) (bool, error) {
	_, err := st.GetSetting(ctx, SettingBootstrapped)
	switch {
	case err == nil:
		return true, nil
	case domain.Is(err, domain.KindNotFound):
		return false, nil
	default:
		return false, domain.E("service.Bootstrap", err)
	}
}
