package broker

import (
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
