package faults

import (
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// rewriteAddresses points the broker addresses in responses at proxies, so that clients
// never bypass them: Metadata, FindCoordinator and DescribeCluster, and the leader hints
// (KIP-951 and KIP-932) of Produce v10+, Fetch v16+, ShareFetch and ShareAcknowledge,
// which send a client straight to a partition's new leader. p.advertise maps each broker
// (a ClusterProxy's node map), or, if nil, every broker goes to p. It returns nil when
// the response names no broker and passes unchanged.
func (p *Proxy) rewriteAddresses(frame []byte, corr int32, key, version int16) ([]byte, error) {
	switch kmsg.Key(key) {
	case kmsg.Metadata, kmsg.FindCoordinator, kmsg.DescribeCluster, kmsg.ShareFetch, kmsg.ShareAcknowledge:
	case kmsg.Produce:
		if version < 10 {
			return nil, nil
		}
	case kmsg.Fetch:
		if version < 16 {
			return nil, nil
		}
	default:
		return nil, nil
	}
	resp, err := DecodeResponse(key, version, frame)
	if err != nil {
		return nil, err
	}
	to := p.advertise
	if to == nil {
		host, portStr, _ := net.SplitHostPort(p.Addr())
		port, _ := strconv.Atoi(portStr)
		to = func(int32, string, int32) (string, int32) { return host, int32(port) }
	}
	named := 0
	point := func(node int32, host *string, port *int32) {
		*host, *port = to(node, *host, *port)
		named++
	}
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	case *kmsg.FindCoordinatorResponse:
		// Up to v3 the answer is at the top; from v4 in Coordinators, one per key, and
		// the top fields are left empty. A coordinator not found has no address.
		if version < 4 && r.ErrorCode == 0 {
			point(r.NodeID, &r.Host, &r.Port)
		}
		for i := range r.Coordinators {
			if c := &r.Coordinators[i]; c.ErrorCode == 0 {
				point(c.NodeID, &c.Host, &c.Port)
			}
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	case *kmsg.ProduceResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	case *kmsg.FetchResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	case *kmsg.ShareFetchResponse:
		for i := range r.NodeEndpoints {
			b := &r.NodeEndpoints[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	case *kmsg.ShareAcknowledgeResponse:
		for i := range r.NodeEndpoints {
			b := &r.NodeEndpoints[i]
			point(b.NodeID, &b.Host, &b.Port)
		}
	}
	if named == 0 {
		return nil, nil // nothing to rewrite: spare re-encoding (a fetch's records)
	}
	return encodeResponse(corr, resp), nil
}
