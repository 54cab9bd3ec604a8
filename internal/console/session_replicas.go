package console

import "time"

// watchReplicas reads the run's partition on every node every watchEvery and publishes
// the view when it changed, with events saying what changed.
func (s *session) watchReplicas() {
	defer s.wg.Done()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	w := newReplicaWatch(s.id)
	for {
		v := s.readReplicas()
		if changed, events := w.next(v); changed {
			s.replicasVersion.Add(1)
			for _, e := range events {
				s.publish(e)
			}
			e := newEvent("replicas", s.id)
			e.Replicas = &v
			s.hub.publishLive(e)
		}
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
	}
}

// readReplicas reads the run's partition now.
func (s *session) readReplicas() ReplicaView {
	return buildView(s.target.Cluster(), s.sandbox.nodeFlags(), s.id, s.topic)
}
