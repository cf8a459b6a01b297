package service

import (
	"context"
	"io"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// ReplicaSnapshot writes the replica snapshot (replica.read;
// docs/integrating.md, "Local mode"): the permission-relevant state at one
// revision in the replica encoding (domain.ReplicaEncoder), read from the
// store in one read and encoded row by row, so a large data set is never
// held in memory. begin is called once the caller is authorized and the
// revision known, with the mark of the change at it (domain.ChangeMark;
// the replica sends it back with its first read of the feed, which then
// proves the server's history is still the one the snapshot follows),
// and returns where to write; an error before it is the
// answer (403, 503), one after it cuts the stream, which the encoding's
// end record lets the reader notice.
func (s *Service) ReplicaSnapshot(ctx context.Context, c Caller, begin func(revision int64, mark string) (io.Writer, error)) error {
	const op = "service.ReplicaSnapshot"
	p, err := s.reader(op, c)
	if err != nil {
		return err
	}
	if !p.has(domain.PermReplicaRead) {
		return forbidden(op, "missing permission %s", domain.PermReplicaRead)
	}
	var enc *domain.ReplicaEncoder
	err = s.st.StreamSnapshot(ctx, func(rev int64, mark string) error {
		w, err := begin(rev, mark)
		if err != nil {
			return err
		}
		enc = domain.NewReplicaEncoder(w, rev)
		return nil
	}, func(m *domain.Mutation) error { return enc.Put(m) })
	if err != nil {
		return domain.E(op, err)
	}
	return enc.Close()
}
