package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/faults"
)

// controllerKill kills the active controller while a topic is being created and values
// produced, and checks that the topic is created and known to every node once the
// killed node is back.
func controllerKill(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	stop, err := c.pacedToThird(ctx, 4*time.Second)
	defer stop()
	if err != nil {
		return err
	}
	ctrl, err := cl.controller(ctx, cl.Nodes()[0])
	if err != nil {
		return err
	}
	created := c.topic + "-created"
	start := time.Now()
	createErr := make(chan error, 1)
	go func() {
		createErr <- createTopicRetrying(ctx, cl.Bootstrap(), created, c.cfg.Partitions, failoverLimit)
	}()
	if err := cl.Kill(ctrl); err != nil {
		return err
	}
	var next int32
	if err := await(ctx, failoverLimit, "a new controller", func() error {
		id, err := cl.controller(ctx, cl.others(ctrl)[0])
		if err == nil && (id < 0 || id == ctrl) {
			err = fmt.Errorf("the controller is %d", id)
		}
		next = id
		return err
	}); err != nil {
		return err
	}
	took := time.Since(start)
	// Back at once: with a node fenced, a replication factor of 3 cannot be placed, and
	// the creation is retried until it can.
	if err := cl.Start(ctrl); err != nil {
		return err
	}
	if err := <-createErr; err != nil {
		return err
	}
	createdIn := time.Since(start)
	for _, id := range cl.Nodes() {
		if _, err := cl.awaitPartition(ctx, id, created, 0, restartLimit, fmt.Sprintf("node %d knowing %s", id, created),
			func(s faults.PartitionState) bool { return s.Leader >= 0 }); err != nil {
			return err
		}
	}
	c.note("controller node %d killed while topic %s was being created; node %d took over after %s; node %d restarted; the topic was created within %s and every node knows it",
		ctrl, created, next, took.Round(time.Millisecond), ctrl, createdIn.Round(time.Millisecond))
	return nil
}

// createTopicRetrying creates topic with the cluster's default replication, retrying
// what a controller change makes retriable, within limit; each attempt with a new client,
// whose first metadata names the controller of the moment. A topic already there counts:
// an earlier attempt may have created it without its answer arriving.
func createTopicRetrying(ctx context.Context, bootstrap, topic string, partitions int32, limit time.Duration) error {
	return await(ctx, limit, "creating "+topic, func() error {
		err := createTopic(ctx, bootstrap, topic, partitions, nil, nil)
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		return err
	})
}

// rollingRestart stops every node in turn by SIGTERM and restarts it, each back in every
// ISR of the cell's topic before the next, while the workload goes on.
func rollingRestart(ctx context.Context, c *cellRun) error {
	cl := c.cluster()
	stop, err := c.pacedToThird(ctx, time.Duration(len(cl.Nodes()))*3*time.Second)
	defer stop()
	if err != nil {
		return err
	}
	var took []string
	for _, id := range cl.Nodes() {
		start := time.Now()
		if err := cl.Stop(id); err != nil {
			return err
		}
		if err := cl.Start(id); err != nil {
			return err
		}
		if err := cl.awaitAllInSync(ctx, id, c.topic, restartLimit); err != nil {
			return err
		}
		took = append(took, fmt.Sprintf("node %d %s", id, time.Since(start).Round(time.Millisecond)))
	}
	c.note("each node stopped by SIGTERM, restarted and back in every ISR in turn: %s", strings.Join(took, ", "))
	return nil
}
