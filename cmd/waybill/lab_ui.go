package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/waybill/waybill/internal/console"
)

func newLabUICmd() *cobra.Command {
	var listen, dataDir, logLevel string
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the web console with the interactive delivery simulator",
		Long: `Start a sandbox cluster (three nodes in this process, on in-memory disks) and the
web console on --listen, then print its address. The console has three pages: the
Delivery Simulator, where you pick the producer's and consumer's settings and the
topic's replication factor and min.insync.replicas, send records and inject a fault at
the moment you choose (a lost ack, a dropped request, a cut connection, a killed or
isolated leader, a slow follower, a power loss of every node, a consumer crash) while
each record travels producer → leader → followers → consumer, with each replica's log,
the high watermark, the ISR and every election on screen; the guarantee matrix, which
runs a quick single-node matrix on demand; and the cluster's live state: brokers, the
controller, each partition's leader, ISR and under-replication. Nothing is loaded from
the network. Ctrl-C stops it; the sandbox and its data go with it.

'waybill serve' serves the same console on its admin listener, with the cluster page
showing the real cluster.`,
		Example: `  waybill lab ui
  waybill lab ui --listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := labLogger(logLevel)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLabUI(ctx, listen, dataDir, logger, func(url string) {
				fmt.Fprintf(cmd.OutOrStdout(), "Waybill console: %s (Ctrl-C to stop)\n", url)
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9645", "address of the web console")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "where the sandbox nodes keep their metadata (default: a temporary directory, removed after)")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	return cmd
}

// runLabUI serves the console with its sandbox until ctx ends; ready gets the console's
// URL once the sandbox runs and the console listens.
func runLabUI(ctx context.Context, listen, dataDir string, logger *slog.Logger, ready func(url string)) error {
	con, err := console.New(console.Config{SandboxDir: dataDir, Logger: logger})
	if err != nil {
		return err
	}
	defer con.Close()
	if _, err := con.StartSandbox(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("console listener %s: %w", listen, err)
	}
	srv := &http.Server{Handler: con, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ready("http://" + dialable(ln.Addr()) + "/")
	select {
	case err = <-served:
	case <-ctx.Done():
		con.Close() // ends the event streams, so that Shutdown need not wait for them
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = srv.Shutdown(shutdownCtx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
