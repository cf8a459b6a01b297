package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Webhook subscriptions and their delivery log (see "Webhooks" in the
// store package doc): configuration written in audited transactions
// without a mutation, delivery state written as housekeeping.

const webhookCols = `id, name, url, filter, secret, active, owner_id, read_limit, created_at, updated_at, version, delivered, failing, last_error, failed_at, lease_owner, lease_until`

func scanWebhook(sc scanner, w *domain.Webhook) error {
	var created, updated int64
	var failedAt, leaseUntil sql.NullInt64
	var filter, limit []byte
	if err := sc.Scan(&w.ID, &w.Name, &w.URL, &filter, &w.Secret, &w.Active, &w.OwnerID, &limit, &created, &updated, &w.Version,
		&w.State.Cursor, &w.State.Failing, &w.State.LastError, &failedAt, &w.State.LeaseOwner, &leaseUntil); err != nil {
		return err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	w.State.FailedAt, w.State.LeaseUntil = optMicros(failedAt), optMicros(leaseUntil)
	w.Filter, w.ReadLimit = domain.WebhookFilter{}, nil
	if err := unmarshal(limit, &w.ReadLimit); err != nil {
		return err
	}
	return unmarshal(filter, &w.Filter)
}

const deliveryCols = `id, webhook_id, at, from_revision, to_revision, changes, attempt, status_code, latency_ms, ok, error, ping`

func scanDelivery(sc scanner, d *domain.WebhookDelivery) error {
	var at int64
	if err := sc.Scan(&d.ID, &d.WebhookID, &at, &d.From, &d.To, &d.Changes, &d.Attempt, &d.StatusCode, &d.LatencyMS, &d.OK, &d.Error, &d.Ping); err != nil {
		return err
	}
	d.At = fromMicros(at)
	return nil
}

func (r reader) GetWebhook(ctx context.Context, id string) (w domain.Webhook, err error) {
	err = r.getOne(ctx, "store.GetWebhook", "webhook "+id, func(sc scanner) error { return scanWebhook(sc, &w) },
		`SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id)
	return w, err
}

func (r reader) ListWebhooks(ctx context.Context) ([]domain.Webhook, error) {
	out := []domain.Webhook{}
	err := r.all(ctx, "store.ListWebhooks", func(rows *sql.Rows) error {
		var w domain.Webhook
		if err := scanWebhook(rows, &w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	}, `SELECT `+webhookCols+` FROM webhooks ORDER BY name_key, id`)
	return out, err
}

func (r reader) ListWebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]domain.WebhookDelivery, error) {
	if limit <= 0 || limit > store.MaxWebhookDeliveries {
		limit = store.MaxWebhookDeliveries
	}
	out := []domain.WebhookDelivery{}
	err := r.all(ctx, "store.ListWebhookDeliveries", func(rows *sql.Rows) error {
		var d domain.WebhookDelivery
		if err := scanDelivery(rows, &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	}, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY at DESC, id DESC LIMIT ?`, webhookID, limit)
	return out, err
}

func (t *tx) CreateWebhook(ctx context.Context, w *domain.Webhook) error {
	var created, updated int64
	t.stamp(&w.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO webhooks (id, name, name_key, url, filter, secret, active, owner_id, read_limit, created_at, updated_at, version, delivered)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
		w.ID, w.Name, domain.NameKey(w.Name), w.URL, mustJSON(w.Filter), w.Secret, w.Active, w.OwnerID, limitJSON(w.ReadLimit), created, updated, w.State.Cursor)
	if err != nil {
		return t.c.db.mapErr("store.CreateWebhook", err, domain.KindInvalid)
	}
	w.CreatedAt, w.UpdatedAt, w.Version = fromMicros(created), fromMicros(updated), 1
	w.State = domain.WebhookState{Cursor: w.State.Cursor}
	return nil
}

// limitJSON stores a nil limit as an empty list.
func limitJSON(keys []string) string {
	if keys == nil {
		keys = []string{}
	}
	return mustJSON(keys)
}

func (t *tx) UpdateWebhook(ctx context.Context, w *domain.Webhook) error {
	now := t.c.db.clock()
	created, err := t.versioned(ctx, "store.UpdateWebhook", "webhooks", w.ID, `UPDATE webhooks SET name = ?, name_key = ?, url = ?, filter = ?, secret = ?, active = ?, owner_id = ?, read_limit = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		w.Name, domain.NameKey(w.Name), w.URL, mustJSON(w.Filter), w.Secret, w.Active, w.OwnerID, limitJSON(w.ReadLimit), now.UnixMicro(), w.ID, w.Version)
	if err != nil {
		return err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), now
	w.Version++
	return nil
}

func (t *tx) DeleteWebhook(ctx context.Context, id string) error {
	return t.execOne(ctx, "store.DeleteWebhook", "webhook "+id, domain.KindConflict, `DELETE FROM webhooks WHERE id = ?`, id)
}

func (t *tx) RewindWebhook(ctx context.Context, id string, cursor int64) error {
	return t.execOne(ctx, "store.RewindWebhook", "webhook "+id, domain.KindInvalid,
		`UPDATE webhooks SET delivered = ?, failing = FALSE, last_error = '', failed_at = NULL WHERE id = ?`, cursor, id)
}

// LeaseWebhook takes or renews owner's lease on a subscription's delivery.
func (db *DB) LeaseWebhook(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	const op = "store.LeaseWebhook"
	now := db.clock().UnixMicro()
	n, err := db.execHousekeeping(ctx, op, `UPDATE webhooks SET lease_owner = ?, lease_until = ?
WHERE id = ? AND (lease_owner = ? OR lease_owner = '' OR lease_until IS NULL OR lease_until < ?)`,
		owner, storeTime(until).UnixMicro(), id, owner, now)
	if err != nil || n > 0 {
		return n > 0, err
	}
	var one int
	err = db.r.QueryRowContext(ctx, db.bind.bind(`SELECT 1 FROM webhooks WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, domain.Errorf(op, domain.KindNotFound, "webhook %s not found", id)
	}
	return false, db.mapErr(op, err, domain.KindInvalid)
}

// ReleaseWebhook ends owner's lease.
func (db *DB) ReleaseWebhook(ctx context.Context, id, owner string) error {
	_, err := db.execHousekeeping(ctx, "store.ReleaseWebhook",
		`UPDATE webhooks SET lease_owner = '', lease_until = NULL WHERE id = ? AND lease_owner = ?`, id, owner)
	return err
}

// AdvanceWebhook moves the cursor while owner's lease holds.
func (db *DB) AdvanceWebhook(ctx context.Context, id, owner string, from, to int64) (bool, error) {
	n, err := db.execHousekeeping(ctx, "store.AdvanceWebhook", `UPDATE webhooks SET delivered = ?, failing = FALSE, last_error = '', failed_at = NULL
WHERE id = ? AND lease_owner = ? AND lease_until >= ? AND delivered = ?`, to, id, owner, db.clock().UnixMicro(), from)
	return n > 0, err
}

// MarkWebhookFailing records a delivery out of retries.
func (db *DB) MarkWebhookFailing(ctx context.Context, id, owner, lastError string) error {
	_, err := db.execHousekeeping(ctx, "store.MarkWebhookFailing",
		`UPDATE webhooks SET failing = TRUE, last_error = ?, failed_at = COALESCE(failed_at, ?) WHERE id = ? AND lease_owner = ?`,
		lastError, db.clock().UnixMicro(), id, owner)
	return err
}

// RecordWebhookDelivery appends to the delivery log and trims it.
func (db *DB) RecordWebhookDelivery(ctx context.Context, d *domain.WebhookDelivery) error {
	const op = "store.RecordWebhookDelivery"
	if d.ID == "" {
		d.ID = domain.NewID()
	}
	if d.At.IsZero() {
		d.At = db.clock()
	}
	d.At = storeTime(d.At)
	if _, err := db.execHousekeeping(ctx, op, `INSERT INTO webhook_deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.WebhookID, d.At.UnixMicro(), d.From, d.To, d.Changes, d.Attempt, d.StatusCode, d.LatencyMS, d.OK, d.Error, d.Ping); err != nil {
		return err
	}
	_, err := db.execHousekeeping(ctx, op, `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND id NOT IN
(SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY at DESC, id DESC LIMIT ?)`, d.WebhookID, d.WebhookID, store.MaxWebhookDeliveries)
	return err
}
