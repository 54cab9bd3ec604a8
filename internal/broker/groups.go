package broker

import (
	"context"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/group"
	"github.com/waybill/waybill/internal/server"
)

// groupAPI adapts a group coordinator method to a handler. The call runs in the Pending:
// JoinGroup and SyncGroup wait for the rebalance, commits wait for durability, and a
// connection's other responses must not overtake them.
func groupAPI[Req kmsg.Request, Resp kmsg.Response](call func(*group.Coordinator, context.Context, Req) Resp) func(*Broker, *server.Request) server.Pending {
	return func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(Req)
		return func() server.Reply { return server.Reply{Msg: call(b.groups, r.Conn.Done, req)} }
	}
}

// groupConfig derives the coordinator's settings from the broker configs.
func (b *Broker) groupConfig() group.Config {
	bc := b.cfg.Broker
	ms := func(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
	return group.Config{
		NumPartitions:           bc.OffsetsTopicNumPartitions,
		MinSessionTimeout:       ms(bc.GroupMinSessionTimeoutMs),
		MaxSessionTimeout:       ms(bc.GroupMaxSessionTimeoutMs),
		InitialRebalanceDelay:   ms(bc.GroupInitialRebalanceDelayMs),
		NoInitialRebalanceDelay: bc.GroupInitialRebalanceDelayMs == 0,
		OffsetsRetention:        time.Duration(bc.OffsetsRetentionMinutes) * time.Minute,
		TopicExists: func(topic string) bool {
			_, ok := b.meta.Image().Topics[topic]
			return ok
		},
		Logger: b.log,
	}
}

// deletedTopics lists the topics of prev that next no longer has, or has again under a
// new id: their committed offsets go with them, as Kafka's BrokerMetadataPublisher has
// the group coordinator delete the offsets of the topics a metadata delta deletes.
func deletedTopics(prev, next *cluster.Image) []string {
	var gone []string
	for name, mt := range prev.Topics {
		if now, ok := next.Topics[name]; !ok || now.ID != mt.ID {
			gone = append(gone, name)
		}
	}
	return gone
}

func init() {
	// JoinGroup v0-9, classic protocol; v4+ requires a member id first (KIP-394), v5+
	// static membership (KIP-345). The coordinator also takes the client's id and host,
	// which Kafka puts in member ids and DescribeGroups.
	register(kmsg.JoinGroup, 0, 9, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(*kmsg.JoinGroupRequest)
		client := group.Client{ID: r.ClientID, Host: "/" + hostOf(r.Conn.Remote)}
		return func() server.Reply { return server.Reply{Msg: b.groups.JoinGroup(r.Conn.Done, client, req)} }
	})
}

func hostOf(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	return addr.String()
}
