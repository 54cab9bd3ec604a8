package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParseQuorum(t *testing.T) {
	voters, err := parseQuorum("1@127.0.0.1:9093, 2@127.0.0.1:9193,3@host-c:9293")
	if err != nil {
		t.Fatal(err)
	}
	if len(voters) != 3 || voters[1].ID != 2 || voters[1].RaftAddr != "127.0.0.1:9193" || voters[2].RaftAddr != "host-c:9293" {
		t.Fatalf("voters: %+v", voters)
	}
	for in, want := range map[string]string{
		"1@a:1,2@b:2":            "use 1, 3 or 5",
		"1@a:1,1@b:2,3@c:3":      "twice",
		"x@a:1":                  "not a node id",
		"1:a:1":                  "expected id@host:port",
		"1@a":                    "not host:port",
		"1@a:1,2@b:2,3@c:0":      "not host:port",
		"-1@a:1":                 "not a node id",
		"1@a:1,2@b:2,3@c:999999": "not host:port",
	} {
		if _, err := parseQuorum(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseQuorum(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestClusterPlacementChecksTheNodesOwnEntry(t *testing.T) {
	q := "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293"
	if _, err := clusterPlacement(&serveOptions{nodeID: 2, controllerQuorum: q, controllerListen: "127.0.0.1:9193"}); err != nil {
		t.Fatalf("a voter at its own address: %v", err)
	}
	if _, err := clusterPlacement(&serveOptions{nodeID: 4, controllerQuorum: q, controllerListen: "127.0.0.1:9393"}); err != nil {
		t.Fatalf("a broker that is no voter: %v", err)
	}
	for _, o := range []serveOptions{
		{nodeID: 2, controllerQuorum: q, controllerListen: "127.0.0.1:9999"},
		{nodeID: 2, controllerQuorum: q},
	} {
		if _, err := clusterPlacement(&o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if voters, err := clusterPlacement(&serveOptions{nodeID: 1}); err != nil || voters != nil {
		t.Fatalf("no cluster flags: %v, %v; want a single node", voters, err)
	}
}

// node.id, controller.quorum.voters and broker.rack come from a Kafka-style config file
// unless a flag says otherwise, and never reach the broker configs.
func TestClusterPropertiesFromTheConfigFile(t *testing.T) {
	var o serveOptions
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.Int32Var(&o.nodeID, "node-id", 1, "")
	fs.StringVar(&o.controllerQuorum, "controller-quorum", "", "")
	fs.StringVar(&o.rack, "rack", "", "")
	if err := fs.Parse([]string{"--rack", "r-flag"}); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"node.id": "3", "controller.quorum.voters": "3@h:1", "broker.rack": "r-file", "num.partitions": "4"}
	if err := takeClusterProperties(values, fs); err != nil {
		t.Fatal(err)
	}
	if o.nodeID != 3 || o.controllerQuorum != "3@h:1" || o.rack != "r-flag" {
		t.Fatalf("options: %+v", o)
	}
	if len(values) != 1 || values["num.partitions"] != "4" {
		t.Fatalf("broker configs left: %v", values)
	}
}
