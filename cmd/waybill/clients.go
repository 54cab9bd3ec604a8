package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// clientCommands are the rpk-like tools that talk to any Kafka-compatible cluster: topic,
// produce, consume, group, txn and cluster. They share one clientConfig, whose connection flags
// (--brokers, --client-id, --request-timeout) are persistent on each of them; the client
// plumbing lives in the client_*.go files.
func clientCommands() []*cobra.Command {
	cfg := &clientConfig{}
	cmds := []*cobra.Command{
		newTopicCmd(cfg),
		newProduceCmd(cfg),
		newConsumeCmd(cfg),
		newGroupCmd(cfg),
		newTxnCmd(cfg),
		newClusterCmd(cfg),
	}
	for _, cmd := range cmds {
		cfg.bindFlags(cmd.PersistentFlags())
	}
	return cmds
}

// runSubcommandOrHelp is the RunE of the command groups (topic, group): called bare they
// print their help, and a misspelt subcommand is an error instead of a help page that
// exits 0, so scripts notice.
func runSubcommandOrHelp(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	hint := fmt.Sprintf("see `%s --help`", cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default for the root command
	}
	if suggestions := cmd.SuggestionsFor(args[0]); len(suggestions) > 0 {
		hint = "did you mean " + strings.Join(suggestions, " or ") + "?"
	}
	return &cliError{msg: fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath()), hint: hint}
}
