package faults

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// ReplicaLogs reads every node's replica of topic's partitions 0 to partitions-1, in
// partition then node order, once every node is stopped (StopAll); a node without a
// replica of a partition is left out. Each partition directory is copied and opened
// there with package log, so that the node's own files stay as the node left them
// (opening a log may rebuild indexes or truncate a torn tail). With
// WAYBILL_DEBUG_BATCHES set, every batch read is printed to stderr (producer,
// transactional, marker type), to diagnose a failing run.
func (pc *ProcessCluster) ReplicaLogs(topic string, partitions int32) ([]ReplicaLog, error) {
	for _, m := range pc.members {
		if m.node.Running() {
			return nil, fmt.Errorf("faults: node %d is running; stop it before reading its logs", m.id)
		}
	}
	copies, err := os.MkdirTemp(pc.cfg.Dir, "replica-copies-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(copies)
	var out []ReplicaLog
	for i := range partitions {
		for _, m := range pc.members {
			name := fmt.Sprintf("%s-%d", topic, i)
			src := filepath.Join(pc.DataDir(m.id), "logs", name)
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			dst := filepath.Join(copies, fmt.Sprintf("node-%d", m.id), name)
			if err := copyDir(src, dst); err != nil {
				return nil, fmt.Errorf("faults: copying node %d's %s: %w", m.id, name, err)
			}
			rl, err := readReplicaLog(dst, m.id, i)
			if err != nil {
				return nil, fmt.Errorf("faults: node %d's %s: %w", m.id, name, err)
			}
			out = append(out, rl)
		}
	}
	return out, nil
}

// readReplicaLog opens the partition log in dir and lists its batches.
func readReplicaLog(dir string, node, index int32) (ReplicaLog, error) {
	l, err := wlog.Open(vfs.Default, dir, wlog.DefaultConfig(), nil)
	if err != nil {
		return ReplicaLog{}, err
	}
	defer l.Close()
	debug := os.Getenv("WAYBILL_DEBUG_BATCHES") != ""
	rl := ReplicaLog{Node: node, Partition: index, End: l.EndOffset()}
	err = l.Scan(l.StartOffset(), func(h records.Header, b []byte) error {
		if debug {
			kind := ""
			if h.IsControl() {
				c, _ := records.ParseControlType(b)
				kind = fmt.Sprintf("control commit=%v", c)
			}
			fmt.Fprintf(os.Stderr, "DEBUG node %d %s batch %d-%d epoch %d pid %d pepoch %d txn %v %s\n", node, filepath.Base(dir),
				h.BaseOffset, h.LastOffset(), h.PartitionLeaderEpoch, h.ProducerID, h.ProducerEpoch, h.IsTransactional(), kind)
		}
		rl.Batches = append(rl.Batches, partition.BatchID{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(),
			LeaderEpoch: h.PartitionLeaderEpoch, CRC: h.CRC})
		return nil
	})
	if err != nil {
		return ReplicaLog{}, fmt.Errorf("scanning: %w", err)
	}
	return rl, nil
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
