// Package crash holds the crash-safety tests of Gatehouse: they build the
// real binary, drive a steady stream of writes at it over REST from several
// concurrent clients, kill it with SIGKILL at random moments, restart it on
// the same database (SQLite and PostgreSQL), and check after every restart
// that every acknowledged write is there, that no unacknowledged write is
// half there (its rows, audit record and change-log row all present or all
// absent), that the engine the server built agrees with the database, and
// that the server serves again within a few seconds. A second test fills a
// size-limited filesystem under the SQLite database and checks that writes
// are refused with 503 and a clear message, that reads and checks go on,
// and that writes resume once space is freed.
//
// The default run (go test ./test/crash) makes 20 kills per backend; run
// more with -kills N (or GATEHOUSE_CRASH_KILLS=N), a fixed seed with
// -seed S (or GATEHOUSE_CRASH_SEED=S), and -long for 200 kills.
package crash
