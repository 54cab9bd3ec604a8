package cluster

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
)

// A forwarder finds the change in an image that a later one replaced before it looked,
// and a wait for an image that never comes ends with its context.
func TestImageTrailKeepsReplacedImages(t *testing.T) {
	f := newFSM(slog.Default())
	idle := f.followImages() // one nobody waits on must not hold up publishing
	defer idle.stop()
	trail := f.followImages()
	defer trail.stop()
	first := emptyImage().withChanges(1)
	f.publish(first)
	f.publish(emptyImage().withChanges(2))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !trail.await(ctx, func(img *Image) bool { return img == first }) {
		t.Fatal("the replaced image was not in the trail")
	}
	go f.publish(emptyImage().withChanges(3))
	if !trail.await(ctx, func(img *Image) bool { return img.Version == 3 }) {
		t.Fatal("an image published while waiting was not seen")
	}

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if trail.await(short, func(img *Image) bool { return img.Version == 4 }) {
		t.Fatal("found an image never published")
	}
	trail.stop()
	f.publish(emptyImage().withChanges(5))
	trail.mu.Lock()
	defer trail.mu.Unlock()
	if len(trail.images) != 0 {
		t.Fatal("a stopped trail still collects images")
	}
}

// Applying a config change to the overrides it produced changes nothing, whatever they
// were built on, and only then does a forwarder take the change as shown.
func TestConfigChangeShownIn(t *testing.T) {
	defaults := config.DefaultBroker()
	incremental := IncrementalConfigs([]config.AlterOp{
		{Name: "retention.ms", Op: kmsg.IncrementalAlterConfigOpSet, Value: kmsg.StringPtr("60000")},
		{Name: "cleanup.policy", Op: kmsg.IncrementalAlterConfigOpAppend, Value: kmsg.StringPtr("compact")},
		{Name: "segment.ms", Op: kmsg.IncrementalAlterConfigOpDelete},
	})
	replace := ReplaceConfigs(map[string]*string{"retention.ms": kmsg.StringPtr("120000"), "segment.ms": nil})
	for _, c := range []struct {
		name   string
		change ConfigChange
		base   map[string]string
	}{
		{"incremental on nothing", incremental, nil},
		{"incremental on others", incremental, map[string]string{"segment.ms": "1000", "max.message.bytes": "2000"}},
		{"replace", replace, map[string]string{"cleanup.policy": "compact"}},
	} {
		after, err := c.change.apply(c.base, defaults)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.change.shownIn(after, defaults) {
			t.Errorf("%s: not shown in its own result %v", c.name, after)
		}
		if c.change.shownIn(map[string]string{"retention.ms": "1"}, defaults) {
			t.Errorf("%s: shown in overrides it would change", c.name)
		}
	}
}

// The controller's answer to a forwarded change is its one topic's or resource's error,
// with the controller's message; NOT_CONTROLLER makes the channel ask the next voter.
func TestResponseErrorOfForwardedChanges(t *testing.T) {
	deleted := kmsg.NewPtrDeleteTopicsResponse()
	rt := kmsg.NewDeleteTopicsResponseTopic()
	rt.ErrorCode, rt.ErrorMessage = kerr.NotController.Code, kmsg.StringPtr("not me")
	deleted.Topics = append(deleted.Topics, rt)
	err := responseError(deleted)
	if !errors.Is(err, kerr.NotController) || err.Error() != "not me" {
		t.Fatalf("error %v", err)
	}

	altered := kmsg.NewPtrIncrementalAlterConfigsResponse()
	altered.Resources = append(altered.Resources, kmsg.NewIncrementalAlterConfigsResponseResource())
	if err := responseError(altered); err != nil {
		t.Fatalf("success answered as %v", err)
	}
	altered.Resources = nil
	if err := responseError(altered); err == nil || errors.Is(err, kerr.NotController) {
		t.Fatalf("an answer for no resource: %v", err)
	}
}
