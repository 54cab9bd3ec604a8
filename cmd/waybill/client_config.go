package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/waybill/waybill/internal/clientopt"
)

// Defaults for the connection flags besides --brokers (flags_shared.go).
const (
	defaultClientID       = "waybill-cli"
	defaultRequestTimeout = 15 * time.Second
)

// clientConfig holds the connection settings every client command shares. One value is
// bound to the persistent flags of each client command tree (topic, produce, consume,
// group), so every command connects the same way and no command builds a client itself.
type clientConfig struct {
	brokers        string
	clientID       string
	requestTimeout time.Duration
}

// bindFlags registers the connection flags on fs. Environment variables only change the
// defaults, so an explicit flag always wins and --help shows what will really be used.
func (c *clientConfig) bindFlags(fs *pflag.FlagSet) {
	bindBrokersFlag(fs, &c.brokers, "")
	fs.StringVar(&c.clientID, "client-id", envOrDefault("WAYBILL_CLIENT_ID", defaultClientID),
		"client id sent to the brokers, visible in their logs and quotas (env WAYBILL_CLIENT_ID)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", defaultRequestTimeout,
		"how long an admin or metadata request may take, connecting included")
}

// seeds splits --brokers, tolerating spaces and stray commas.
func (c *clientConfig) seeds() []string { return clientopt.List(c.brokers) }

// newClient builds a franz-go client from the shared flags plus the command's own options.
func (c *clientConfig) newClient(extra ...kgo.Opt) (*kgo.Client, error) {
	seeds := c.seeds()
	if len(seeds) == 0 {
		return nil, &cliError{msg: "no brokers given", hint: "pass --brokers host:port[,host:port...] or set WAYBILL_BROKERS"}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(c.clientID),
		// A person is waiting: fail a dead address quickly instead of after kgo's 10s.
		kgo.DialTimeout(5 * time.Second),
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, &cliError{msg: fmt.Sprintf("invalid client settings: %v", err), err: err}
	}
	return cl, nil
}

// runAdmin gives fn an admin client and a context bounded by --request-timeout, and turns
// whatever fn returns into an error a person can act on. Every admin command goes through
// it, so connection failures read the same everywhere.
func (c *clientConfig) runAdmin(cmd *cobra.Command, fn func(ctx context.Context, adm *kadm.Client) error) error {
	return c.runClients(cmd, func(ctx context.Context, _ *kgo.Client, adm *kadm.Client) error { return fn(ctx, adm) })
}

// runClients is runAdmin for commands that also send requests kadm has no call for.
func (c *clientConfig) runClients(cmd *cobra.Command, fn func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error) error {
	cl, err := c.newClient()
	if err != nil {
		return err
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), c.requestTimeout)
	defer cancel()
	return c.explain(fn(ctx, cl, adm))
}
