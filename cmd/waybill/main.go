// Command waybill is the one binary: a Kafka-compatible broker (serve) and the tools that
// talk to it.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "waybill",
		Short:         "A Kafka-compatible streaming broker whose delivery guarantees you can see",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd())
	root.AddCommand(clientCommands()...)
	root.AddCommand(newBenchCmd())
	root.AddCommand(newLabCmd())
	root.AddCommand(newDevCmd())
	return root
}
