package main

import "github.com/spf13/cobra"

// clientCommands are the rpk-like tools that talk to any Kafka-compatible cluster.
func clientCommands() []*cobra.Command { return nil }
