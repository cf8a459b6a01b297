package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SettingCursorKey holds, in hex, the key that authenticates the REST
// API's list cursors (internal/api/rest, cursor.go). It lives in the
// database so that every replica on it accepts the cursors of the others
// behind one load balancer; a key per process would not.
const SettingCursorKey = "cursor_key"

// CursorKey returns the database's cursor key, creating it (32 random
// bytes) in its own audited transaction the first time. Replicas starting
// together all end with the one key that was committed first.
func CursorKey(ctx context.Context, st store.Store) ([]byte, error) {
	const op = "service.CursorKey"
	if k, err := readCursorKey(ctx, st); err == nil || !domain.Is(err, domain.KindNotFound) {
		return k, domainErr(op, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, domain.E(op, err)
	}
	_, err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		// Looked at again inside the transaction (which writers take
		// one at a time): another replica may have made it meanwhile.
		if _, err := tx.GetSetting(ctx, SettingCursorKey); err == nil || !domain.Is(err, domain.KindNotFound) {
			return err
		}
		if err := tx.PutSetting(ctx, &domain.Setting{Key: SettingCursorKey, Value: hex.EncodeToString(buf)}); err != nil {
			return err
		}
		// The key itself is never in the audit log.
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "system", Action: "system.cursor_key",
			TargetKind: "system", Outcome: domain.OutcomeSuccess,
			Detail: "created the key that authenticates list cursors"})
	})
	if err != nil {
		return nil, domain.E(op, err)
	}
	k, err := readCursorKey(ctx, st)
	return k, domainErr(op, err)
}

func readCursorKey(ctx context.Context, st store.Reader) ([]byte, error) {
	s, err := st.GetSetting(ctx, SettingCursorKey)
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(s.Value)
	if err != nil || len(k) < 16 {
		return nil, domain.E("service.CursorKey", domain.KindOther, fmt.Errorf("setting %s is not a hex key of 16 bytes or more", SettingCursorKey))
	}
	return k, nil
}

func domainErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return domain.E(op, err)
}
