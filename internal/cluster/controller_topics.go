package cluster

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Controller is the controller's own side of the topic operations that Node's methods
// make from any broker: what the controller listener serves to the brokers that forward
// their clients' changes (forward.go), and what a controller does for its own clients.
// Its methods act only while this node is the controller and answer NOT_CONTROLLER
// otherwise, without forwarding again, so that the sender asks the next voter. They
// validate against this node's image, the one that counts, and return once the change is
// applied here. The Controller of a nil Node (one that has not started) answers
// NOT_CONTROLLER to every change and has an empty image.
type Controller struct{ n *Node }

// Controller returns the controller's side of n's topic operations; n may be nil.
func (n *Node) Controller() Controller { return Controller{n: n} }

// Image returns the node's current image, or an empty one before it has started.
func (c Controller) Image() *Image {
	if c.n == nil {
		return emptyImage()
	}
	return c.n.Image()
}

// check refuses a change unless this node is the controller. A node that has just won
// an election counts from its claim of the role on, when it has applied everything
// committed before.
func (c Controller) check() error {
	if c.n == nil || c.n.sessions.Load() == nil {
		return errorf(kerr.NotController, "this node is not the controller")
	}
	return nil
}

// CreateTopic is Node.CreateTopic on the controller.
func (c Controller) CreateTopic(ctx context.Context, req CreateTopicRequest) (*Topic, error) {
	return c.createTopic(ctx, req, isInternalTopicName(req.Name))
}

func (c Controller) createTopic(ctx context.Context, req CreateTopicRequest, internal bool) (*Topic, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	t, err := c.n.newTopic(c.n.Image(), req, internal)
	if err != nil || req.ValidateOnly {
		return t, err
	}
	if _, err := c.n.propose(ctx, command{CreateTopic: &createTopicCmd{Topic: t}}); err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteTopic is Node.DeleteTopic on the controller.
func (c Controller) DeleteTopic(ctx context.Context, name string) error {
	if err := c.check(); err != nil {
		return err
	}
	t, err := topicNamed(c.n.Image(), name)
	if err != nil {
		return err
	}
	return byName(name, c.deleteTopic(ctx, t))
}

// DeleteTopicByID is Node.DeleteTopicByID on the controller.
func (c Controller) DeleteTopicByID(ctx context.Context, id UUID) error {
	if err := c.check(); err != nil {
		return err
	}
	t, err := topicWithID(c.n.Image(), id)
	if err != nil {
		return err
	}
	return c.deleteTopic(ctx, t)
}

func (c Controller) deleteTopic(ctx context.Context, t *Topic) error {
	if t.Internal {
		return internalTopicDeletion(t.Name)
	}
	// By id, so that a topic deleted and re-created under the same name meanwhile is
	// not the one deleted.
	_, err := c.n.propose(ctx, command{DeleteTopic: &deleteTopicCmd{ID: t.ID}})
	return err
}

// CreatePartitions is Node.CreatePartitions on the controller.
func (c Controller) CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error {
	if err := c.check(); err != nil {
		return err
	}
	t, added, err := partitionsToAdd(c.n.Image(), name, total)
	if err != nil || validateOnly {
		return err
	}
	_, err = c.n.propose(ctx, command{CreatePartitions: &createPartitionsCmd{ID: t.ID, Partitions: added}})
	return byName(name, err)
}

// AlterTopicConfigs is Node.AlterTopicConfigs on the controller. It applies the change
// to the overrides in this image, so that changes forwarded by different brokers build
// on each other.
func (c Controller) AlterTopicConfigs(ctx context.Context, name string, change ConfigChange, validateOnly bool) error {
	if err := c.check(); err != nil {
		return err
	}
	t, overrides, err := c.n.configsAfter(c.n.Image(), name, change)
	if err != nil || validateOnly {
		return err
	}
	_, err = c.n.propose(ctx, command{AlterTopicConfigs: &alterTopicConfigsCmd{ID: t.ID, Configs: overrides}})
	return byName(name, err)
}
