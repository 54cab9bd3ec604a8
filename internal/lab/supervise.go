package lab

import (
	"context"
	"time"
)

// maxRestarts bounds the restarts of a cell's applications by their supervisor, and
// restartBackoff spaces them, growing with each, so that an application that gives up
// during a fail-over is not restarted into the same failure at once.
const (
	maxRestarts    = 5
	restartBackoff = 250 * time.Millisecond
)

// supervise restarts an application that gave up on an error it could not get past, as
// its supervisor would: a producer whose transaction could not be ended (the coordinator
// died under it), a consume-transform-produce loop that cannot begin one. A zombie that
// its successor fenced is left dead.
func (c *cellRun) supervise(ctx context.Context) {
	for restarts := 1; restarts <= maxRestarts; {
		var what string
		var id int
		var restart func(context.Context) (int, error)
		select {
		case in := <-c.producer.GaveUp():
			if !in.Latest() || c.producer.Settled() {
				continue
			}
			what, id, restart = "producer", in.ID, c.nextProducer
		case ci := <-c.consumer.GaveUp():
			if ci != c.currentConsumer() {
				continue
			}
			what, id, restart = "consumer", ci.ID, c.nextConsumer
		case <-ctx.Done():
			return
		}
		select {
		case <-time.After(time.Duration(restarts) * restartBackoff):
		case <-ctx.Done():
			return
		}
		restarts++
		if next, err := restart(ctx); err == nil {
			c.note("%s %d gave up on a failed transaction; %s %d took over", what, id, what, next)
		}
	}
}

// nextProducer and nextConsumer start a new incarnation and return its number.
func (c *cellRun) nextProducer(ctx context.Context) (int, error) {
	in, err := c.startProducer(ctx, c.bootstrap)
	if err != nil {
		return 0, err
	}
	return in.ID, nil
}

func (c *cellRun) nextConsumer(ctx context.Context) (int, error) {
	ci, err := c.startConsumer(ctx)
	if err != nil {
		return 0, err
	}
	return ci.ID, nil
}
