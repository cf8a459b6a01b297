// Command coldstart measures how long `gatehouse serve` takes from its
// start to serving on a large database, SQLite or PostgreSQL
// (-postgres), and its resident memory then (issue 18): 100,000 users,
// 1,000,000 memberships and 100,000 folders by default, written by plain
// SQL (much faster than the store's write path; the rows are what the
// store would hold). Several binaries (-binary a,b) start in turns,
// -rounds times each, on the same database, so that a build before and
// after a change meet the same load.
//
//	go run ./bench/coldstart -binary /tmp/gh-main,/tmp/gh-new -rounds 3
//	go run ./bench/coldstart -binary /tmp/gh-new -postgres
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/bench/internal/benchdb"
	"github.com/gatehouse/gatehouse/internal/store/postgres"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/internal/testserver"
)

type config struct {
	binaries                        []string
	rounds                          int
	db                              string
	pgServer                        string // with postgres: a scratch database is made there, and dropped
	pgDSN                           string // with postgres: or this empty database is used, and kept
	postgres                        bool
	users, groups, perUser, folders int
}

func main() {
	var cfg config
	var bins string
	flag.StringVar(&bins, "binary", "", "comma-separated gatehouse binaries to start in turns (required)")
	flag.IntVar(&cfg.rounds, "rounds", 3, "starts of each binary")
	flag.StringVar(&cfg.db, "db", "", "SQLite file to use: seeded when it does not exist, kept afterwards (default: a temporary one)")
	flag.BoolVar(&cfg.postgres, "postgres", false, "seed a scratch PostgreSQL database instead (on -pg; dropped afterwards)")
	flag.StringVar(&cfg.pgServer, "pg", benchdb.Server(),
		"with -postgres: the PostgreSQL server (env GATEHOUSE_TEST_POSTGRES)")
	flag.StringVar(&cfg.pgDSN, "pg-dsn", "", "with -postgres: seed this empty database instead of a scratch one")
	flag.IntVar(&cfg.users, "users", 100000, "users")
	flag.IntVar(&cfg.groups, "groups", 10000, "system groups")
	flag.IntVar(&cfg.perUser, "per-user", 10, "memberships per user")
	flag.IntVar(&cfg.folders, "folders", 100000, "folders (a tree of branching 10, one level entry on every tenth)")
	flag.Parse()
	if bins == "" {
		fmt.Fprintln(os.Stderr, "coldstart: -binary is required")
		os.Exit(2)
	}
	cfg.binaries = strings.Split(bins, ",")
	if _, err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// run seeds (unless cfg.db exists), starts every binary in turns and
// returns each one's samples, in the order of the rounds.
func run(ctx context.Context, cfg config) (map[string][]sample, error) {
	dsn, cleanup, err := database(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	results := map[string][]sample{}
	for r := 0; r < cfg.rounds; r++ {
		for _, bin := range cfg.binaries {
			s, err := startOnce(ctx, bin, dsn)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", bin, err)
			}
			fmt.Printf("round %d %-20s ready in %-8v RSS %4d MB, peak %4d MB (load %s)\n", r+1, filepath.Base(bin),
				s.ready.Round(time.Millisecond), s.rssMB, s.hwmMB, loadAverage())
			results[bin] = append(results[bin], s)
		}
	}
	for _, bin := range cfg.binaries {
		fmt.Println(summary(bin, results[bin]))
	}
	return results, nil
}

type sample struct {
	ready        time.Duration
	rssMB, hwmMB int
}

func summary(bin string, ss []sample) string {
	readies := make([]time.Duration, len(ss))
	rss := make([]int, len(ss))
	for i, s := range ss {
		readies[i], rss[i] = s.ready, s.rssMB
	}
	slices.Sort(readies)
	slices.Sort(rss)
	return fmt.Sprintf("%-20s ready median %v (%v–%v), RSS at ready median %d MB (%d–%d)", filepath.Base(bin),
		readies[len(ss)/2].Round(time.Millisecond), readies[0].Round(time.Millisecond), readies[len(ss)-1].Round(time.Millisecond),
		rss[len(ss)/2], rss[0], rss[len(ss)-1])
}

// database returns the --db of the binaries: cfg.db, seeded when it
// does not exist, a temporary SQLite file, or a scratch PostgreSQL
// database; cleanup removes what was made for this run.
func database(ctx context.Context, cfg config) (dsn string, cleanup func(), err error) {
	seeded := func(start time.Time) {
		fmt.Printf("seeded %d users, %d groups, %d memberships, %d folders in %v\n",
			cfg.users, cfg.groups, cfg.users*cfg.perUser, cfg.folders, time.Since(start).Round(time.Millisecond))
	}
	if cfg.postgres {
		dsn, drop := cfg.pgDSN, func() {}
		if dsn == "" {
			if dsn, drop, err = benchdb.Scratch(ctx, cfg.pgServer); err != nil {
				return "", nil, err
			}
		}
		start := time.Now()
		if err := seedPostgres(ctx, dsn, cfg); err != nil {
			drop()
			return "", nil, err
		}
		seeded(start)
		return dsn, drop, nil
	}
	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path := cfg.db
	if path == "" {
		path = filepath.Join(dir, "gatehouse.db")
	}
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if err := seedSQLite(ctx, path, cfg); err != nil {
			cleanup()
			return "", nil, err
		}
		seeded(start)
	}
	return path, cleanup, nil
}

// startOnce starts bin on the database, times it until it logs that it
// serves (testserver.Launch waits for that line, written once the engine
// is built and the listener open), reads its memory and stops it.
func startOnce(ctx context.Context, bin, path string) (sample, error) {
	t := time.Now()
	s, err := testserver.Launch(ctx, testserver.Options{Binary: bin, Name: bin, LogLimit: 1 << 16, StartTimeout: 5 * time.Minute,
		Env: []string{"GATEHOUSE_ADMIN_PASSWORD=coldstart-password-1"}, Args: []string{"--db", path}})
	if err != nil {
		return sample{}, err
	}
	ready := time.Since(t)
	defer s.Kill()
	rss, hwm, err := memoryOf(s.Pid())
	return sample{ready: ready, rssMB: rss, hwmMB: hwm}, err
}

// memoryOf reads a process's resident set and its peak, in MB.
func memoryOf(pid int) (rss, hwm int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm, nil
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// seedSQLite creates the schema through the store (its migrations), then
// writes the rows.
func seedSQLite(ctx context.Context, path string, cfg config) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	st.Close()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer raw.Close()
	for _, q := range seedStatements(cfg) {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// seedPostgres is seedSQLite on PostgreSQL: the same statements, which
// both databases read alike.
func seedPostgres(ctx context.Context, dsn string, cfg config) error {
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, q := range seedStatements(cfg) {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// seedStatements write the rows with a few INSERT … SELECT statements.
func seedStatements(cfg config) []string {
	now := time.Now().UnixMicro()
	const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `
	return []string{
		fmt.Sprintf(series+`INSERT INTO groups (id, name, name_key, description, scope, builtin, system_permissions, default_project_permissions, created_at, updated_at, version)
		 SELECT 'g' || i, 'group ' || i, 'group ' || i, '', 'system', '', 'null', 'null', %d, %d, 1 FROM n`, cfg.groups, now, now),
		fmt.Sprintf(series+`INSERT INTO users (id, username, username_key, email, email_key, display_name, display_name_key, status, source, external_id, show_personal_info, created_at, updated_at, version)
		 SELECT 'u' || i, 'user-' || i, 'user-' || i, 'user-' || i || '@example.org', 'user-' || i || '@example.org', 'User ' || i, 'user ' || i, 'active', 'local', '', true, %d, %d, 1 FROM n`, cfg.users, now, now),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d), k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < %d)
		 INSERT INTO memberships (group_id, user_id, created_at) SELECT 'g' || (1 + (n.i * 7 + k.k * 997) %% %d), 'u' || n.i, %d FROM n, k`,
			cfg.users, cfg.perUser-1, cfg.groups, now),
		fmt.Sprintf(`INSERT INTO folder_types (id, name, name_key, contexts, properties, created_at, updated_at, version)
		 VALUES ('t1', 'Bench folder', 'bench folder', '["root"]', '[]', %d, %d, 1)`, now, now),
		// Folder 1 is the root; folder i's parent is (i+8)/10, so each
		// folder has ten children and a parent comes before them.
		fmt.Sprintf(series+`INSERT INTO folders (id, parent_id, name, name_key, type_id, properties, project_id, created_at, updated_at, version)
		 SELECT 'f' || i, CASE WHEN i = 1 THEN NULL ELSE 'f' || ((i + 8) / 10) END, 'folder ' || i, 'folder ' || i, 't1', '{}', NULL, %d, %d, 1 FROM n`, cfg.folders, now, now),
		fmt.Sprintf(series+`INSERT INTO folder_levels (folder_id, group_id, level)
		 SELECT 'f' || (i * 10), 'g' || (1 + i %% %d), 2 FROM n`, cfg.folders/10, cfg.groups),
		`ANALYZE`,
	}
}
