package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenOptions tune Listen.
type ListenOptions struct {
	// Log defaults to slog.Default().
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reconnecting after
	// the connection is lost (defaults 100ms and 5s; it doubles each try).
	MinBackoff, MaxBackoff time.Duration
}

// Listener delivers the revisions committed by any writer on the
// database, as announced on NotifyChannel.
type Listener struct {
	// C receives each announced revision, and 0 after every
	// (re)connection: changes committed while no one listened were not
	// announced, so the reader should catch up. It is closed when the
	// context given to Listen ends. Values are dropped, never queued
	// without bound, when the reader is slow: a reader catching up reads
	// the whole log anyway.
	C    <-chan int64
	done chan struct{}
}

// Wait returns once the listener has closed its connection, after the
// context given to Listen ended.
func (l *Listener) Wait() { <-l.done }

// Listen LISTENs on NotifyChannel over a connection of its own, outside
// the pool, so it never holds up writers or takes a connection from them.
// When the connection is lost (PostgreSQL restarted, a network cut) it
// reconnects with backoff and LISTENs again until ctx ends.
func (db *DB) Listen(ctx context.Context, o ListenOptions) *Listener {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	c := make(chan int64, 64)
	l := &Listener{C: c, done: make(chan struct{})}
	cfg := db.pool.Config().ConnConfig.Copy()
	go func() {
		defer close(l.done)
		defer close(c)
		backoff := o.MinBackoff
		lost := false
		for ctx.Err() == nil {
			err := listenOnce(ctx, cfg, c, func() {
				backoff = o.MinBackoff
				if lost {
					o.Log.Info("listening for changes again", "channel", NotifyChannel)
					lost = false
				}
			})
			if ctx.Err() != nil {
				return
			}
			if !lost {
				o.Log.Warn("change notifications lost; reconnecting (polling goes on meanwhile)", "err", err)
				lost = true
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, o.MaxBackoff)
		}
	}()
	return l
}

// listenOnce connects, LISTENs and forwards notifications until the
// connection fails or ctx ends. connected is called once LISTEN is in
// place.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, c chan<- int64, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		// The context may be done: close with a fresh, short one.
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	connected()
	send(c, 0)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		rev, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil || rev < 0 {
			rev = 0 // not ours to judge: catching up is always safe
		}
		send(c, rev)
	}
}

func send(c chan<- int64, rev int64) {
	select {
	case c <- rev:
	default:
	}
}
