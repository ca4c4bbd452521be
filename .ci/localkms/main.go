// Command localkms serves local-kms, the KMS stand-in the KMS sealer's
// tests run against, on a loopback address only. local-kms's own main
// listens on every interface and has no address option; this serves the
// same request handler, at the version go.mod pins, on -addr.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	kms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4599", "loopback address to listen on")
	dir := flag.String("data", "", "directory for the keys (required)")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("localkms: -addr %q is not a loopback address", *addr)
	}
	if *dir == "" {
		log.Fatal("localkms: -data is required")
	}
	config.AWSAccountId = "111122223333"
	config.AWSRegion = "eu-west-2"
	if config.DatabasePath, err = filepath.Abs(*dir); err != nil {
		log.Fatal(err)
	}
	db := data.NewDatabase(config.DatabasePath)
	defer db.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("localkms: serving on %s, keys in %s", ln.Addr(), config.DatabasePath)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { kms.HandleRequest(w, r, db) })
	if err := http.Serve(ln, h); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}
