package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The metadata changes clients may ask of any broker (CreateTopics and auto-creation,
// DeleteTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs, ElectLeaders)
// are the controller's to make, as in Kafka since KIP-590: a broker that is not the controller
// forwards each change over the controller listener, in the Kafka request the controller
// serves there, and answers its client only once its own image shows the change, so
// that the client's next request to the same broker sees it.
//
// A broker validates against its own image first (an unknown topic, a bad config, a
// validate-only request are answered without the controller); the controller validates
// again against its image, which is the one that counts.

// change is one metadata change asked of this node, in the forms it takes on its way.
type change struct {
	// what names the change in errors: "deleting topic orders".
	what string
	// atController makes the change on this node when it is the controller (Controller's
	// methods, which return only once it is applied here) and fails with NOT_CONTROLLER
	// on any other node.
	atController func(ctx context.Context) error
	// request asks the controller for the change, one topic or resource per request so
	// that its answer is this change's alone (ElectLeaders asks for all its partitions
	// at once, and reads each one's outcome from the answer in shown). It is called
	// afresh for every attempt: the client stamps a version on the request and may
	// still hold an earlier attempt's.
	request func() kmsg.Request
	// shown reports whether img, an image this node published after the change was
	// asked or its current one, reflects it, given the controller's answer to request.
	shown func(resp kmsg.Response, img *Image) bool
}

// forwardRetryBackoff spaces the rounds of asking every voter while none is the
// controller (an election is running, the controller is stopping).
const forwardRetryBackoff = 50 * time.Millisecond

// carryOut makes c at the controller: here when this node is the controller, else
// forwarded to it; then waits until this node's image shows it. While no controller
// answers it keeps asking until ctx ends, so that NOT_CONTROLLER never reaches a client:
// a change not made by then is REQUEST_TIMED_OUT, an outcome the client must treat as
// unknown, as Kafka's.
//
// Errors are those the controller answered with (an *Error with its Kafka code and
// message), RequestTimedOut, or an unexpected answer (UNKNOWN_SERVER_ERROR to clients).
func (n *Node) carryOut(ctx context.Context, c change) error {
	// Follow the images before asking, so that none showing the change passes unseen,
	// also not one that a later change replaced before the controller's answer arrived.
	trail := n.fsm.followImages()
	defer trail.stop()
	for {
		err := c.atController(ctx)
		if !errors.Is(err, kerr.NotController) {
			return err // nil: applied here already
		}
		resp, err := n.channel.sendRemote(ctx, c.request)
		if err == nil {
			err = responseError(resp)
		}
		if err == nil {
			// The current image first: an answer may ask nothing new of it (ElectLeaders
			// where no partition needed an election), and then no image will come.
			if c.shown(resp, n.Image()) {
				return nil
			}
			if !trail.await(ctx, func(img *Image) bool { return c.shown(resp, img) }) {
				return errorf(kerr.RequestTimedOut, "%s: the controller made the change, but this broker has not applied it yet", c.what)
			}
			return nil
		}
		if !errors.Is(err, kerr.NotController) {
			return err
		}
		if sleepCtx(ctx, forwardRetryBackoff) != nil {
			return errorf(kerr.RequestTimedOut, "%s: no controller answered before the deadline (last: %v)", c.what, err)
		}
	}
}

// imageTrail holds every image the node publishes from its creation until stop.
type imageTrail struct {
	f *fsm

	mu     sync.Mutex
	images []*Image
	added  chan struct{} // capacity 1: images were added since the last look
}

// followImages starts a trail; the caller must stop it.
func (f *fsm) followImages() *imageTrail {
	t := &imageTrail{f: f, added: make(chan struct{}, 1)}
	f.publishMu.Lock()
	defer f.publishMu.Unlock()
	f.trails[t] = struct{}{}
	return t
}

func (t *imageTrail) stop() {
	t.f.publishMu.Lock()
	defer t.f.publishMu.Unlock()
	delete(t.f.trails, t)
}

// add runs under the fsm's publishMu, on raft's apply goroutine: it must not block.
func (t *imageTrail) add(img *Image) {
	t.mu.Lock()
	t.images = append(t.images, img)
	t.mu.Unlock()
	select {
	case t.added <- struct{}{}:
	default:
	}
}

// await reports whether one of the trail's images, published already or while ctx
// lasts, satisfies shown. Images are looked at once each and then dropped.
func (t *imageTrail) await(ctx context.Context, shown func(*Image) bool) bool {
	for {
		t.mu.Lock()
		images := t.images
		t.images = nil
		t.mu.Unlock()
		for _, img := range images {
			if shown(img) {
				return true
			}
		}
		select {
		case <-t.added:
		case <-ctx.Done():
			return false
		}
	}
}

// answerError is the error of one topic or resource in the controller's answer, with
// the controller's message.
func answerError(code int16, message *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil {
		return nil
	}
	ke, ok := err.(*kerr.Error)
	if !ok {
		return err
	}
	if message == nil {
		return errorf(ke, "%s", ke.Message)
	}
	return errorf(ke, "%s", *message)
}

// oneAnswer is answerError for a response that must hold exactly one topic or
// resource, as every forwarded request asks for one.
func oneAnswer(items int, code func() (int16, *string)) error {
	if items != 1 {
		return fmt.Errorf("cluster: the controller answered for %d topics or resources instead of 1", items)
	}
	return answerError(code())
}

// timeoutMillis is a forwarded request's timeout: what is left of ctx, or fallback.
func timeoutMillis(ctx context.Context, fallback time.Duration) int32 {
	if deadline, ok := ctx.Deadline(); ok {
		return int32(max(time.Until(deadline), time.Millisecond) / time.Millisecond)
	}
	return int32(fallback / time.Millisecond)
}
