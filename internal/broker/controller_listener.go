package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

// serveControllerListener binds the controller listener (unless the caller bound it) and
// serves its Kafka side with the controller APIs at once: while this node's quorum
// starts, the other voters' brokers ask it who controls, and get NOT_CONTROLLER rather
// than silence.
func (b *Broker) serveControllerListener() error {
	if b.cfg.Controller == nil && b.cfg.ControllerListen == "" {
		return nil // a single node whose quorum runs in memory
	}
	if b.cfg.Controller == nil {
		l, err := cluster.ListenController(b.cfg.ControllerListen, b.log)
		if err != nil {
			return err
		}
		b.cfg.Controller = l
	}
	b.ctrlSrv = server.New(server.Config{MaxRequestBytes: b.cfg.Broker.SocketRequestMaxBytes, Logger: b.log}, listener{b, controllerAPIs})
	b.ctrlSrv.Attach(b.cfg.Controller.Kafka())
	go func() {
		if err := b.ctrlSrv.Serve(); err != nil {
			b.log.Error("controller listener stopped", "err", err)
		}
	}()
	return nil
}

func (b *Broker) closeControllerServer() {
	if b.ctrlSrv != nil {
		b.ctrlSrv.Close()
	}
}

// registerNodeAPI registers a controller API answered by the metadata node, or with
// NOT_CONTROLLER while the node has not started.
func registerNodeAPI[Req kmsg.Request, Resp kmsg.Response](key kmsg.Key, min, max int16,
	handle func(*cluster.Node, context.Context, Req) Resp, setErrorCode func(Resp, int16)) {
	registerController(key, min, max, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(Req)
		return func() server.Reply {
			node := b.controller.Load()
			if node == nil {
				resp := req.ResponseKind().(Resp)
				setErrorCode(resp, kerr.NotController.Code)
				return server.Reply{Msg: resp}
			}
			return server.Reply{Msg: handle(node, r.Conn.Done, req)}
		}
	})
}

// topicAdmin makes the topic changes of CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs and IncrementalAlterConfigs, and the elections of ElectLeaders. On the client listener it is the metadata
// node, which has the controller make them from any broker (forwarding them when this
// node is not the controller); on the controller listener, where other brokers forward
// them, it is the controller's own side, which answers NOT_CONTROLLER rather than
// forward again, so that the sender asks the next voter.
type topicAdmin interface {
	Image() *cluster.Image
	CreateTopic(ctx context.Context, req cluster.CreateTopicRequest) (*cluster.Topic, error)
	DeleteTopic(ctx context.Context, name string) error
	DeleteTopicByID(ctx context.Context, id cluster.UUID) error
	CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error
	AlterTopicConfigs(ctx context.Context, name string, change cluster.ConfigChange, validateOnly bool) error
	ElectLeaders(ctx context.Context, unclean bool, partitions []cluster.TopicPartition) ([]cluster.ElectionResult, error)
}

var (
	_ topicAdmin = (*cluster.Node)(nil)
	_ topicAdmin = cluster.Controller{}
)

// registerAdmin registers a topic admin API on both listeners, each with its topicAdmin.
// The controller listener serves before this node's quorum has started, when its
// controller side refuses every change with NOT_CONTROLLER.
func registerAdmin(key kmsg.Key, min, max int16, handle func(b *Broker, r *server.Request, admin topicAdmin) server.Pending) {
	register(key, min, max, func(b *Broker, r *server.Request) server.Pending {
		return handle(b, r, b.meta)
	})
	registerController(key, min, max, func(b *Broker, r *server.Request) server.Pending {
		return handle(b, r, b.controller.Load().Controller())
	})
}
