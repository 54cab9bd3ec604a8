package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/waybill/waybill/internal/admin"
	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/console"
)

type serveOptions struct {
	dataDir     string
	listen      string
	advertise   string
	adminListen string
	nodeID      int32
	configFile  string
	set         []string
	logLevel    string

	controllerListen string
	controllerQuorum string
	rack             string
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Waybill broker",
		Long: `Run a Waybill broker. With no flags it runs a single node with embedded defaults:
data in ./waybill-data, Kafka clients on 127.0.0.1:9092, the web console, metrics
and health on http://127.0.0.1:9644/. Every flag has a WAYBILL_* environment
equivalent (--data-dir is WAYBILL_DATA_DIR). Broker configs use Kafka's names, from
--config (a Kafka-style properties file) and --set name=value.`,
		Example: `  waybill serve
  waybill serve --data-dir /var/lib/waybill --listen 0.0.0.0:9092 --advertise broker1:9092
  waybill serve --set auto.create.topics.enable=false --set num.partitions=3
  # node 2 of a three-voter cluster
  waybill serve --node-id 2 --listen 127.0.0.1:9192 --controller-listen 127.0.0.1:9193 \
    --controller-quorum 1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293 \
    --data-dir ./node2 --admin-listen 127.0.0.1:9744`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			return runServe(cmd.Flags(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "./waybill-data", "directory holding logs and metadata")
	f.StringVar(&o.listen, "listen", "127.0.0.1:9092", "address of the Kafka listener")
	f.StringVar(&o.advertise, "advertise", "", "host:port given to clients (default: the listener address)")
	f.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:9644", "address serving the web console, /metrics, /healthz, /readyz and pprof (empty disables it)")
	f.Int32Var(&o.nodeID, "node-id", 1, "this node's id")
	f.StringVar(&o.configFile, "config", "", "Kafka-style properties file of broker configs")
	f.StringArrayVar(&o.set, "set", nil, "broker config name=value (repeatable)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.controllerListen, "controller-listen", "", "address of the controller listener, which carries the metadata quorum's Raft and the controller APIs brokers call (needed in a cluster)")
	f.StringVar(&o.controllerQuorum, "controller-quorum", "", "the metadata quorum's voters, id@host:port,... at their controller listeners (Kafka's controller.quorum.voters); 1, 3 or 5 nodes. A node not listed joins as a broker that follows the metadata log")
	f.StringVar(&o.rack, "rack", "", "this broker's rack (broker.rack), for spreading replicas")
	return cmd
}

// applyEnv fills flags the command line left unset from WAYBILL_<FLAG_NAME>.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "WAYBILL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func runServe(fs *pflag.FlagSet, o *serveOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	values, err := brokerConfigValues(o.configFile, o.set)
	if err != nil {
		return err
	}
	if err := takeClusterProperties(values, fs); err != nil {
		return err
	}
	voters, err := clusterPlacement(o)
	if err != nil {
		return err
	}
	bc, err := config.ParseBroker(values)
	if err != nil {
		return err
	}
	b, err := broker.Start(broker.Config{
		NodeID:    o.nodeID,
		DataDir:   o.dataDir,
		Listen:    o.listen,
		Advertise: o.advertise,
		Broker:    bc,
		Logger:    logger,

		Rack:             o.rack,
		ControllerListen: o.controllerListen,
		Voters:           voters,
	})
	if err != nil {
		return err
	}
	var adm *admin.Server
	var con *console.Console
	if o.adminListen != "" {
		con, err = console.New(console.Config{Bootstrap: dialable(b.Addr()), Logger: logger})
		if err != nil {
			b.Close()
			return err
		}
		adm, err = admin.Start(o.adminListen, b.Registry(), b.Ready, logger, con)
		if err != nil {
			con.Close()
			b.Close()
			return fmt.Errorf("admin listener %s: %w", o.adminListen, err)
		}
		logger.Info("admin listener started", "addr", adm.Addr().String(),
			"console", "http://"+dialable(adm.Addr())+"/")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	logger.Info("shutting down", "signal", s.String())
	if con != nil {
		con.Close() // ends the console's event streams, so the listener closes at once
	}
	if adm != nil {
		adm.Close()
	}
	return b.Close()
}

// dialable is a bound address as a client on this host can dial it: a wildcard host
// (0.0.0.0, ::) becomes the loopback address.
func dialable(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// brokerConfigValues merges the properties file and --set pairs; --set wins.
func brokerConfigValues(file string, set []string) (map[string]string, error) {
	values := map[string]string{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("%s:%d: expected name=value", file, i+1)
			}
			values[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: expected name=value", kv)
		}
		values[k] = v
	}
	return values, nil
}
