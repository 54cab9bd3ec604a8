package main

import (
	"testing"

	"github.com/waybill/waybill/internal/testbroker"
)

// startTestCluster starts a real Waybill broker for the client command tests and returns
// its seed address. Auto topic creation is off so that the tests see what a strict Kafka
// cluster answers.
func startTestCluster(t *testing.T) (seeds string) {
	t.Helper()
	b := testbroker.Start(t, testbroker.WithBrokerConfig(map[string]string{
		"auto.create.topics.enable": "false",
	}))
	return b.Addr()
}
