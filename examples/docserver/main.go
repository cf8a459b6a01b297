// Command docserver is an example application of Gatehouse: a tiny
// document server that keeps its folders in Gatehouse and asks it, with
// pkg/gatehouse's middleware, before every read and write of a document.
//
//	GET    /docs/{folder}/         list the documents (root.read)
//	GET    /docs/{folder}/{name}   read a document (root.read)
//	PUT    /docs/{folder}/{name}   write one: root.edit, or root.create for a new one
//	DELETE /docs/{folder}/{name}   delete one (root.delete)
//	GET    /folders                the folders the caller may read
//	POST   /folders/{folder}       register a folder (root.create_folder on the root folder)
//
// A request names its user with the X-User header or basic auth's
// username (the password is not checked): a demo identity scheme, never
// to be used as is. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/local"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "docserver:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(args []string) error {
	fl := flag.NewFlagSet("docserver", flag.ContinueOnError)
	ghURL := fl.String("gatehouse", envOr("GATEHOUSE_URL", "http://127.0.0.1:8080"), "Gatehouse server URL (GATEHOUSE_URL)")
	token := fl.String("token", os.Getenv("GATEHOUSE_TOKEN"), "API token whose user holds users.view and files.admin (GATEHOUSE_TOKEN)")
	listen := fl.String("listen", "127.0.0.1:8081", "address to listen on")
	root := fl.String("root", "docserver", "name of the Gatehouse root folder holding the server's folders")
	folders := fl.String("folders", "", "comma-separated folders to register at start when absent")
	data := fl.String("data", "", "directory keeping the documents (empty: in memory, lost at exit)")
	wait := fl.Duration("wait", 0, "how long a check waits for an X-Gatehouse-At-Least revision (0: Gatehouse's default, 2s)")
	useLocal := fl.Bool("local", false, "answer checks in process from a local replica (the token's user also needs replica.read; see docs/integrating.md)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("an API token is needed: -token or GATEHOUSE_TOKEN (see README.md)")
	}
	gh, err := gatehouse.New(*ghURL, gatehouse.WithToken(*token), gatehouse.WithUserAgent("docserver"))
	if err != nil {
		return err
	}
	var store Store = newMemStore()
	if *data != "" {
		if store, err = newDirStore(*data); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := Config{Gatehouse: gh, Root: *root, Folders: strings.Split(*folders, ","), Store: store, Wait: *wait}
	if *useLocal {
		// Not ready (loading after a gap) or behind an X-Gatehouse-At-Least:
		// ask the server rather than refuse.
		rep, err := local.New(ctx, gh, local.Options{NotReady: local.AskServer, Behind: local.AskServer, AtLeastWait: *wait})
		if err != nil {
			return fmt.Errorf("local mode: %w", err)
		}
		defer rep.Close()
		cfg.Local = rep
	}
	s, err := newServer(ctx, cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("docserver serving", "url", "http://"+*listen+"/", "gatehouse", gh.BaseURL(), "root_folder", *root)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
