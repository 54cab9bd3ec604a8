package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The broker's side of the lifecycle (Kafka's BrokerLifecycleManager): register this
// incarnation with the controller, heartbeat until unfenced, then heartbeat every
// broker.heartbeat.interval.ms for as long as the node runs; on the way out, a controlled
// shutdown moves leadership away before the broker stops.
//
// Requests go to the controller through a controllerChannel (channel.go). This node's
// own controller answers through the same handlers any broker's requests reach, so a
// single node runs exactly the path a cluster does.

// lifecycleRetryBackoff spaces retries of a refused or failed registration or
// heartbeat while the node starts or stops, when it is waiting for an answer.
const lifecycleRetryBackoff = 50 * time.Millisecond

// leaderlessShutdownWait is how long a controlled shutdown waits for a quorum with no
// leader to elect one: a few election timeouts.
const leaderlessShutdownWait = 3 * time.Second

// registrationReportEvery spaces the log lines of a broker still waiting for a
// controller, so that whoever started it sees why it is not up yet.
const registrationReportEvery = 5 * time.Second

// register records this incarnation with the controller and returns its broker epoch,
// retrying what may pass (no controller yet, the previous incarnation's session) until
// ctx ends.
func (n *Node) register(ctx context.Context) (int64, error) {
	build := func() kmsg.Request {
		req := kmsg.NewPtrBrokerRegistrationRequest()
		req.BrokerID = n.cfg.NodeID
		req.ClusterID = n.Image().ClusterID
		req.IncarnationID = n.incarnation
		listener := kmsg.NewBrokerRegistrationRequestListener()
		listener.Name, listener.Host, listener.Port = "PLAINTEXT", n.cfg.Host, uint16(n.cfg.Port)
		req.Listeners = append(req.Listeners, listener)
		if n.controller != nil {
			// Where the controller's Raft reaches this node when it is not a voter.
			if host, port, err := splitHostPort(string(n.transport.LocalAddr())); err == nil {
				ctrl := kmsg.NewBrokerRegistrationRequestListener()
				ctrl.Name, ctrl.Host, ctrl.Port = controllerListenerName, host, uint16(port)
				req.Listeners = append(req.Listeners, ctrl)
			}
		}
		if n.cfg.Rack != "" {
			req.Rack = &n.cfg.Rack
		}
		return req
	}
	lastReport := time.Now()
	for {
		resp, err := n.channel.send(ctx, build)
		if err == nil {
			r := resp.(*kmsg.BrokerRegistrationResponse)
			if err = kerr.ErrorForCode(r.ErrorCode); err == nil {
				return r.BrokerEpoch, nil
			}
		}
		if !retriableLifecycleError(err) {
			return 0, err
		}
		if time.Since(lastReport) >= registrationReportEvery {
			n.logger.Info("waiting for the controller to register this broker", "broker", n.cfg.NodeID, "last_answer", err)
			lastReport = time.Now()
		}
		if waitErr := sleepCtx(ctx, lifecycleRetryBackoff); waitErr != nil {
			return 0, fmt.Errorf("%w (last answer: %v)", waitErr, err)
		}
	}
}

// sendHeartbeat sends one heartbeat for epoch.
func (n *Node) sendHeartbeat(ctx context.Context, epoch int64, wantShutdown bool) (*kmsg.BrokerHeartbeatResponse, error) {
	resp, err := n.channel.send(ctx, func() kmsg.Request {
		req := kmsg.NewPtrBrokerHeartbeatRequest()
		req.BrokerID = n.cfg.NodeID
		req.BrokerEpoch = epoch
		// Everything applied, metadata commands or not, so that the controller can tell
		// how far behind this broker's log is.
		req.CurrentMetadataOffset = int64(n.raft.AppliedIndex())
		req.WantShutdown = wantShutdown
		req.WantFence = n.storageFailed.Load()
		return req
	})
	if err != nil {
		return nil, err
	}
	r := resp.(*kmsg.BrokerHeartbeatResponse)
	return r, kerr.ErrorForCode(r.ErrorCode)
}

// heartbeatUntil heartbeats every backoff until done accepts an answer, ctx ends, or
// giveUp (when not nil) returns an error.
func (n *Node) heartbeatUntil(ctx context.Context, epoch int64, wantShutdown bool, done func(*kmsg.BrokerHeartbeatResponse) bool, giveUp func() error) error {
	for {
		r, err := n.sendHeartbeat(ctx, epoch, wantShutdown)
		switch {
		case err == nil && done(r):
			return nil
		case err != nil && !retriableLifecycleError(err):
			return err
		}
		if giveUp != nil {
			if err := giveUp(); err != nil {
				return err
			}
		}
		if err := sleepCtx(ctx, lifecycleRetryBackoff); err != nil {
			return err
		}
	}
}

// leaderlessFor returns a giveUp for heartbeatUntil that ends the wait once the quorum
// has had no leader for d: when the rest of a cluster is stopping too, no controller
// will answer, and waiting out the whole deadline helps nobody.
func (n *Node) leaderlessFor(d time.Duration) func() error {
	var since time.Time
	return func() error {
		if addr, _ := n.raft.LeaderWithID(); addr != "" {
			since = time.Time{}
			return nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		if time.Since(since) >= d {
			return errorf(kerr.NotController, "the metadata quorum has had no leader for %v", d)
		}
		return nil
	}
}

// heartbeatLoop keeps this broker's session alive until the node closes. A broker
// fenced meanwhile (a long pause) is unfenced by its next heartbeat once caught up; a
// newer incarnation of this id (STALE_BROKER_EPOCH) ends the loop, loudly.
func (n *Node) heartbeatLoop(epoch int64) {
	defer close(n.heartbeatsDone)
	ticker := time.NewTicker(n.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-n.stopHeartbeats:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.HeartbeatInterval)
		r, err := n.sendHeartbeat(ctx, epoch, false)
		cancel()
		switch {
		case errors.Is(err, kerr.StaleBrokerEpoch), errors.Is(err, kerr.BrokerIDNotRegistered):
			n.logger.Error("this broker was registered again by another incarnation; heartbeats stop", "broker", n.cfg.NodeID, "epoch", epoch, "err", err)
			return
		case err != nil:
			n.logger.Warn("broker heartbeat failed", "err", err)
		case r.IsFenced && n.storageFailed.Load():
			// Logged once by StorageFailed; the broker stays fenced.
		case r.IsFenced:
			n.logger.Warn("this broker is fenced: it leads nothing until its next heartbeat unfences it", "broker", n.cfg.NodeID)
		}
	}
}

// StorageFailed takes this broker out of service after its log storage failed: its
// heartbeats ask to be fenced (BrokerHeartbeat's WantFence), so the controller moves
// its leaderships to in-sync replicas elsewhere and takes it out of every ISR, as Kafka
// does with a broker whose only log directory went offline. It stays fenced until it
// restarts.
func (n *Node) StorageFailed(err error) {
	if n.storageFailed.Swap(true) {
		return
	}
	n.logger.Error("log storage failed: asking the controller to fence this broker, so that its partitions move to other replicas", "err", err)
}

// ControlledShutdown asks the controller to move leadership away from this broker and
// waits until the controller lets it stop (or ctx ends), as a broker does on SIGTERM
// before it closes its partitions.
func (n *Node) ControlledShutdown(ctx context.Context) error {
	n.stopHeartbeatLoop()
	epoch := n.epoch.Load()
	if epoch == 0 {
		return nil // never registered
	}
	shutDown := func(r *kmsg.BrokerHeartbeatResponse) bool { return r.ShouldShutdown }
	err := n.heartbeatUntil(ctx, epoch, true, shutDown, n.leaderlessFor(leaderlessShutdownWait))
	if err != nil {
		return fmt.Errorf("cluster: controlled shutdown of broker %d: %w", n.cfg.NodeID, err)
	}
	return nil
}

func (n *Node) stopHeartbeatLoop() {
	n.stopHeartbeatsOnce.Do(func() {
		close(n.stopHeartbeats)
		if n.epoch.Load() != 0 {
			<-n.heartbeatsDone
		}
	})
}

// retriableLifecycleError is what a registration or heartbeat may meet while the
// quorum elects a controller or the previous incarnation's session runs out.
func retriableLifecycleError(err error) bool {
	return errors.Is(err, kerr.NotController) || errors.Is(err, kerr.DuplicateBrokerRegistration) ||
		errors.Is(err, kerr.RequestTimedOut) || errors.Is(err, context.DeadlineExceeded)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
