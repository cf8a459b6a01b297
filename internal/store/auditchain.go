package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The tamper-evident audit log (issue 9, docs/audit.md). Every audit record
// the store commits gets a position in one chain (Seq 1, 2, 3, ... with no
// gap, in commit order), the hash of the record before it (PrevHash) and its
// own Hash = AuditHash(record). The store computes them while it holds the
// write lock that serialises transactions, so no caller can forget them and
// concurrent writers still build one chain. Editing, deleting, inserting or
// reordering records afterwards, directly in the database, breaks the chain
// at that record, and VerifyAudit names it.

// AuditGenesis is the PrevHash of the first record of a chain nothing was
// pruned from: 64 zeros.
const AuditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditTimeFormat is how a record's time enters its hash and the export:
// UTC, microseconds, always six fraction digits, so that every backend, a
// backup restored elsewhere and an outside verifier produce the same bytes.
const AuditTimeFormat = "2006-01-02T15:04:05.000000Z"

// AuditRecord is an audit event with its place in the chain.
type AuditRecord struct {
	domain.AuditEvent
	Seq      int64
	PrevHash string
	Hash     string
}

// AuditHash returns the hex SHA-256 of r's canonical encoding (version 1):
// the netstrings ("<byte length>:<bytes>,") of, in order, the literal
// "gatehouse.audit.v1", Seq in decimal, PrevHash, ID, Revision in decimal,
// At in AuditTimeFormat, ActorID, ActorName, Action, TargetKind, TargetID,
// Outcome, Before (the stored JSON text, empty if none), After, Detail and
// RemoteAddr. r.Hash itself is ignored.
func AuditHash(r *AuditRecord) string {
	h := sha256.New()
	var num [24]byte
	field := func(s string) {
		h.Write(strconv.AppendInt(num[:0], int64(len(s)), 10))
		h.Write([]byte{':'})
		io.WriteString(h, s)
		h.Write([]byte{','})
	}
	field("gatehouse.audit.v1")
	field(strconv.FormatInt(r.Seq, 10))
	field(r.PrevHash)
	field(r.ID)
	field(strconv.FormatInt(r.Revision, 10))
	field(r.At.UTC().Format(AuditTimeFormat))
	field(r.ActorID)
	field(r.ActorName)
	field(r.Action)
	field(r.TargetKind)
	field(r.TargetID)
	field(string(r.Outcome))
	field(string(r.Before))
	field(string(r.After))
	field(r.Detail)
	field(r.RemoteAddr)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditChain is what a store with a hash-chained audit log offers besides
// Store: verification, export and pruning. Both SQL backends implement it.
type AuditChain interface {
	// VerifyAudit re-walks the whole chain from the anchor to the head. A
	// chain that does not verify is reported in the result's Break, not
	// as an error; errors are failures to read.
	VerifyAudit(ctx context.Context) (AuditVerification, error)
	// ExportAudit calls fn for each sealed record with Since <= At < Until
	// (zero bounds are open), in chain order, until fn returns an error.
	ExportAudit(ctx context.Context, q AuditExportQuery, fn func(*AuditRecord) error) error
	// PruneAudit removes the longest prefix of the chain whose records are
	// all older than before, remembers the last removed record as the
	// anchor, and appends e (the record of the pruning itself, its Detail
	// completed with what was removed) in the same transaction. It fails
	// with KindInvalid if before is zero or in the future.
	PruneAudit(ctx context.Context, before time.Time, e *domain.AuditEvent) (AuditPruned, error)
}

// AuditChainOf returns st's audit chain, looking through wrappers (a
// metrics or fault-injecting store) that offer Unwrap() Store.
func AuditChainOf(st Store) (AuditChain, bool) {
	for st != nil {
		if ac, ok := st.(AuditChain); ok {
			return ac, true
		}
		u, ok := st.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		st = u.Unwrap()
	}
	return nil, false
}

// AuditExportQuery bounds ExportAudit by record time.
type AuditExportQuery struct {
	Since time.Time // inclusive, zero for no bound
	Until time.Time // exclusive, zero for no bound
}

// AuditVerification is the outcome of VerifyAudit.
type AuditVerification struct {
	Records    int64  // sealed records walked
	HeadSeq    int64  // the head the chain row records
	HeadHash   string //
	AnchorSeq  int64  // position of the last pruned record, 0 if none
	AnchorHash string // its hash, AuditGenesis if none
	Unsealed   int64  // records without a position (written before the chain existed and not yet sealed)
	Break      *AuditBreak
}

// OK reports whether the chain verified.
func (v AuditVerification) OK() bool { return v.Break == nil }

// AuditBreak names the first place the chain does not match.
type AuditBreak struct {
	Seq      int64     // the position of the record (or, for a missing head, the head's)
	ID       string    // the record's id, empty if the record is missing
	At       time.Time // the record's time, zero if missing
	Problem  string    // what does not match, in words
	Expected string
	Found    string
}

// AuditPruned says what PruneAudit removed.
type AuditPruned struct {
	Removed    int64
	AnchorSeq  int64
	AnchorHash string
}
