package engine

import (
	"errors"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Load builds the index of a snapshot that read streams: read calls start
// once with the snapshot's revision, then put with each object in the
// order a snapshot streams them (Builder), and returns its error. put does
// not keep the mutation or its object, so read may reuse them.
//
// read runs on a goroutine of its own while the caller's indexes what it
// has read so far: reading rows from the database costs more CPU than
// indexing them, and a server starting or reloading has its other cores
// idle (issue 18: cold start). If read fails, Load returns its error and
// builds nothing; if the index refuses an object, read's next put returns
// errLoadStopped and Load returns the index's error.
func Load(read func(start func(revision int64) error, put func(*domain.Mutation) error) error) (*Engine, error) {
	l := &loader{
		full:    make(chan *loadBatch, loadBatches),
		free:    make(chan *loadBatch, loadBatches+1),
		stop:    make(chan struct{}),
		readErr: make(chan error, 1),
	}
	go l.read(read)
	return l.build()
}

// errLoadStopped ends read when the index has refused an object.
var errLoadStopped = errors.New("engine: load stopped: the index refused an object")

const (
	loadBatchLen  = 1024 // objects handed from the reader to the indexer at once
	firstBatchLen = 64   // the first batch's: a small snapshot (a test's) allocates little
	loadBatches   = 4    // batches in flight: the reader runs that far ahead
)

// loadBatch is a run of objects read, copied out of the reader's reuse.
// Memberships, users and folders, nearly all of a large snapshot, are
// copied into the batch's own arrays, reused with it, rather than
// allocated one by one: a copy of each would be some 40 MB of garbage for
// a million memberships, and a higher peak.
type loadBatch struct {
	items   []domain.Mutation
	membs   slab[domain.Membership]
	users   slab[domain.User]
	folders slab[domain.Folder]
}

// slab holds copies of objects of one kind; its capacity is its batch's,
// so it never grows and the pointers into it stay valid. It is allocated
// when its batch first holds an object of its kind.
type slab[T any] []T

func (s *slab[T]) hold(x *T, capacity int) *T {
	if *s == nil {
		*s = make(slab[T], 0, capacity)
	}
	*s = append(*s, *x)
	return &(*s)[len(*s)-1]
}

func (s *slab[T]) reset() {
	clear(*s) // drop what the copies pointed to
	*s = (*s)[:0]
}

// add copies m and its object into the batch.
func (b *loadBatch) add(m *domain.Mutation) {
	c := *m
	switch {
	case m.Membership != nil:
		c.Membership = b.membs.hold(m.Membership, cap(b.items))
	case m.User != nil:
		c.User = b.users.hold(m.User, cap(b.items))
	case m.Folder != nil:
		c.Folder = b.folders.hold(m.Folder, cap(b.items))
	default:
		c.Detach()
	}
	b.items = append(b.items, c)
}

func (b *loadBatch) full() bool { return len(b.items) == cap(b.items) }

// reset empties the batch for reuse, dropping what it pointed to.
func (b *loadBatch) reset() {
	clear(b.items)
	b.items = b.items[:0]
	b.membs.reset()
	b.users.reset()
	b.folders.reset()
}

// newLoadBatch returns a batch of n objects.
func newLoadBatch(n int) *loadBatch {
	return &loadBatch{items: make([]domain.Mutation, 0, n)}
}

// loader hands batches from the reading goroutine to the indexing one.
// start sets rev and started; they are atomics because a stream that
// breaks its contract (a put before start) may set them while build
// reads them.
type loader struct {
	full, free chan *loadBatch
	stop       chan struct{} // closed by build when the index refused an object
	readErr    chan error
	cur        *loadBatch
	next       int // the size of the next batch made
	rev        atomic.Int64
	started    atomic.Bool
}

func (l *loader) read(read func(start func(int64) error, put func(*domain.Mutation) error) error) {
	defer close(l.full)
	l.next = firstBatchLen
	l.cur = l.newBatch()
	err := read(func(r int64) error {
		l.rev.Store(r)
		l.started.Store(true)
		return nil
	}, func(m *domain.Mutation) error {
		l.cur.add(m)
		if l.cur.full() && !l.send() {
			return errLoadStopped
		}
		return nil
	})
	if err == nil && len(l.cur.items) > 0 {
		l.send()
	}
	l.readErr <- err
}

// newBatch returns a new batch, each twice the last one's size up to
// loadBatchLen.
func (l *loader) newBatch() *loadBatch {
	b := newLoadBatch(l.next)
	l.next = min(2*l.next, loadBatchLen)
	return b
}

// send hands the current batch over and takes a free one, or reports
// that build has stopped.
func (l *loader) send() bool {
	select {
	case l.full <- l.cur:
	case <-l.stop:
		return false
	}
	select {
	case l.cur = <-l.free:
	default:
		l.cur = l.newBatch()
	}
	return true
}

// build puts the batches into a Builder as they come.
func (l *loader) build() (*Engine, error) {
	var x *Builder
	var buildErr error
	for b := range l.full {
		if x == nil && l.started.Load() {
			x = NewBuilder(l.rev.Load())
		} else if x == nil {
			buildErr = domain.E("engine.Load", domain.KindInvalid, errorf("the snapshot stream put an object before its revision"))
		}
		for i := 0; i < len(b.items) && buildErr == nil; i++ {
			buildErr = x.Put(&b.items[i])
		}
		if buildErr != nil {
			close(l.stop)
			for range l.full { // until the reader has seen stop and returned
			}
			break
		}
		b.reset()
		select {
		case l.free <- b:
		default:
		}
	}
	if err := <-l.readErr; buildErr == nil && err != nil {
		return nil, err
	}
	if buildErr != nil {
		return nil, buildErr
	}
	if x == nil {
		if !l.started.Load() {
			return nil, domain.E("engine.Load", domain.KindInvalid, errorf("the snapshot stream ended before its revision"))
		}
		x = NewBuilder(l.rev.Load())
	}
	return x.Engine()
}
