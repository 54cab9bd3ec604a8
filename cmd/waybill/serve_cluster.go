package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/waybill/waybill/internal/cluster"
)

// The node's place in a cluster comes from flags or, with Kafka's names, from the
// --config properties file: node.id, controller.quorum.voters, broker.rack. A flag given
// on the command line (or through its WAYBILL_* variable) wins over the file.
var clusterProperties = map[string]string{
	"node.id":                  "node-id",
	"controller.quorum.voters": "controller-quorum",
	"broker.rack":              "rack",
}

// takeClusterProperties moves the cluster properties out of the file's values (they are
// not broker configs) into the flags the command line left unset.
func takeClusterProperties(values map[string]string, fs *pflag.FlagSet) error {
	for property, flag := range clusterProperties {
		v, ok := values[property]
		if !ok {
			continue
		}
		delete(values, property)
		if fs.Changed(flag) {
			continue
		}
		if err := fs.Set(flag, v); err != nil {
			return fmt.Errorf("%s in --config: %w", property, err)
		}
	}
	return nil
}

// parseQuorum reads controller.quorum.voters: id@host:port,... (Kafka's format). The
// voters must be 1, 3 or 5 distinct nodes, so that a majority survives the loss of
// none, one or two.
func parseQuorum(s string) ([]cluster.Voter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var voters []cluster.Voter
	seen := map[int32]bool{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		idStr, addr, ok := strings.Cut(entry, "@")
		if !ok {
			return nil, fmt.Errorf("controller quorum entry %q: expected id@host:port", entry)
		}
		id, err := strconv.ParseInt(idStr, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("controller quorum entry %q: %q is not a node id", entry, idStr)
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || !validPort(port) {
			return nil, fmt.Errorf("controller quorum entry %q: %q is not host:port", entry, addr)
		}
		if seen[int32(id)] {
			return nil, fmt.Errorf("controller quorum names node %d twice", id)
		}
		seen[int32(id)] = true
		voters = append(voters, cluster.Voter{ID: int32(id), RaftAddr: addr})
	}
	if n := len(voters); n != 1 && n != 3 && n != 5 {
		return nil, fmt.Errorf("controller quorum has %d voters; use 1, 3 or 5, so that a majority is clear", n)
	}
	return voters, nil
}

// validPort reports whether port names a port a node can listen at (not 0, which
// would pick one the other nodes cannot know).
func validPort(port string) bool {
	p, err := strconv.Atoi(port)
	return err == nil && p > 0 && p <= 65535
}

// clusterPlacement checks that the flags describe a node that can join its quorum.
func clusterPlacement(o *serveOptions) ([]cluster.Voter, error) {
	voters, err := parseQuorum(o.controllerQuorum)
	if err != nil {
		return nil, err
	}
	switch {
	case len(voters) == 0 && o.controllerListen == "":
		return nil, nil // a single node, its quorum in memory
	case len(voters) == 0:
		return []cluster.Voter{{ID: o.nodeID, RaftAddr: o.controllerListen}}, nil
	case o.controllerListen == "":
		return nil, fmt.Errorf("--controller-quorum needs --controller-listen: the other nodes reach this one there")
	}
	for _, v := range voters {
		if v.ID == o.nodeID && v.RaftAddr != o.controllerListen {
			return nil, fmt.Errorf("node %d is a voter at %s in --controller-quorum, but --controller-listen is %s: the other voters could not reach it", o.nodeID, v.RaftAddr, o.controllerListen)
		}
	}
	return voters, nil
}
